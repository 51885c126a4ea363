"""A registry entry: what a model family declares about one trainable model. The leaf every family imports.

An entry names the config class and a `build(config, context)` function, its presets, its sampling
options, the models it needs built first (`requires`), the config fields derived from the data rather than
set by the user (`derived`), and the report figures it contributes. It imports no family and no loader.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from torch import nn

from genvision.config import option_owners
from genvision.data.config import DataConfig
from genvision.train.config import TrainConfig


@dataclass(frozen=True)
class NoOptions:
    """For models whose sample() takes no options."""


class BuildContext(NamedTuple):
    """What `build` gets besides the model config.

    image_shape: (C, H, W) of the data; num_classes: 0 for unlabelled data; data: the run's data config;
    deps: the modules named in the entry's `requires`, already built (and loaded), by config field.
    """

    image_shape: tuple[int, int, int]
    num_classes: int
    data: DataConfig = DataConfig()
    deps: Mapping[str, nn.Module] = {}


@dataclass(frozen=True)
class ModelEntry:
    """name -> config class, build(config, BuildContext) -> nn.Module with loss(batch), presets.

    presets: name -> {key: value} over the model, training and data configs.
    sample_options: a frozen dataclass whose fields are passed to model.sample(**options).
    requires: config field -> the model name it must hold (a run, checkpoint or pretrained:NAME at training
      time; the loader builds it and hands the module to `build` in context.deps).
    sample_requires: sample option -> the model name it names (e.g. a noisy classifier for guidance); the
      command layer loads it and passes the module.
    derived: config fields set by `build` from the data (image size, channels), not options.
    figures: names of the report's lecture figures this model gets (genvision.report.sections.FIGURES).
    """

    name: str
    description: str
    config_cls: type
    build: Callable[[Any, BuildContext], nn.Module]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_preset: str = ""
    sample_options: type = NoOptions
    requires: Mapping[str, str] = field(default_factory=dict)
    sample_requires: Mapping[str, str] = field(default_factory=dict)
    derived: frozenset[str] = frozenset()
    figures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # An option name owned by two configs would shadow one silently: refuse it where it is defined.
        option_owners(self.option_configs(), hidden=self.hidden_fields())
        fields = {f.name for f in dataclasses.fields(self.config_cls)}
        for key in (*self.requires, *self.derived):
            if key not in fields:
                raise ValueError(f"entry {self.name!r}: {key!r} is not a field of {self.config_cls.__name__}")

    def option_configs(self) -> dict[str, Any]:
        """The configs `genvision train NAME --key=value` fills, defaults only."""
        return {"model": self.config_cls(), "train": TrainConfig(), "data": DataConfig()}

    def hidden_fields(self) -> dict[str, frozenset[str]]:
        return {"model": self.derived}

    def make(self, cfg: Any, image_shape: tuple[int, int, int], num_classes: int, *,
             data: DataConfig | None = None, deps: Mapping[str, nn.Module] | None = None) -> nn.Module:
        """build(cfg, BuildContext(...)): the model with freshly initialised weights."""
        return self.build(cfg, BuildContext(tuple(image_shape), int(num_classes), data or DataConfig(),
                                            dict(deps or {})))


def build_plain(cls: type) -> Callable[[Any, BuildContext], nn.Module]:
    """build for a model class taking (config, image_shape, num_classes): the common case."""

    def build(cfg: Any, ctx: BuildContext) -> nn.Module:
        return cls(cfg, ctx.image_shape, ctx.num_classes)

    build.__doc__ = f"{cls.__name__}(config, image_shape, num_classes)"
    return build
