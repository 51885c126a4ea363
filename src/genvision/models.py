"""The model registry: a model name -> its config class, builder, presets and sampling options.

Model families add an entry in `_entries()`; the trainer and the CLI only ever go through this table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from torch import nn

from genvision.config import apply_overrides, from_dict
from genvision.data.config import DataConfig
from genvision.errors import GenvisionError
from genvision.train.checkpoint import load_target
from genvision.train.config import TrainConfig
from genvision.train.integrity import match_state_dict
from genvision.train.run_config import check_run_config


@dataclass(frozen=True)
class NoOptions:
    """For models whose sample() takes no options."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    config_cls: type
    # build(model_config, image_shape (C, H, W), num_classes) -> nn.Module with loss(batch)
    build: Callable[[Any, tuple[int, int, int], int], nn.Module]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # keys of any of the configs
    default_preset: str = ""
    sample_options: type = NoOptions  # frozen dataclass; its fields are passed to model.sample(**options)


class RunSpec(NamedTuple):
    model: str
    preset: str
    model_config: Any
    train: TrainConfig
    data: DataConfig


def _entries() -> list[ModelEntry]:
    from genvision.autoregressive.registry import ENTRY as pixelcnn
    from genvision.diffusion.registry import ENTRIES as diffusion
    from genvision.dvae.registry import ENTRIES as dvae
    from genvision.eval.classifier import ENTRY as eval_classifier
    from genvision.vqvae.registry import ENTRIES as vqvae

    return [*diffusion, pixelcnn, *vqvae, *dvae, eval_classifier]


def registry() -> dict[str, ModelEntry]:
    return {e.name: e for e in _entries()}


def get_entry(name: str) -> ModelEntry:
    table = registry()
    if name not in table:
        raise GenvisionError(f"unknown model {name!r}; available: {', '.join(sorted(table))}")
    return table[name]


def make_run_spec(name: str, *, preset: str | None = None, overrides: Mapping[str, Any] | None = None
                  ) -> RunSpec:
    """Defaults <- preset <- user overrides, for the model, training and data configs."""
    entry = get_entry(name)
    preset = preset if preset is not None else entry.default_preset
    if preset and preset not in entry.presets:
        raise GenvisionError(f"model {name!r} has no preset {preset!r}; presets: {', '.join(entry.presets)}")
    configs: dict[str, Any] = {"model": entry.config_cls(), "train": TrainConfig(), "data": DataConfig()}
    if preset:
        configs = apply_overrides(configs, entry.presets[preset])
    configs = apply_overrides(configs, overrides or {})
    return RunSpec(name, preset, configs["model"], configs["train"], configs["data"])


def run_config_dict(spec: RunSpec, *, image_shape: tuple[int, int, int], num_classes: int) -> dict[str, Any]:
    """The JSON saved as config.json and inside every checkpoint."""
    return {
        "model": spec.model,
        "preset": spec.preset,
        "model_config": dataclasses.asdict(spec.model_config),
        "train": dataclasses.asdict(spec.train),
        "data": dataclasses.asdict(spec.data),
        "image_shape": list(image_shape),
        "num_classes": num_classes,
    }


def build_from_config(config: Mapping[str, Any], *, where: str = "run config") -> nn.Module:
    shape = check_run_config(config, where=where)
    entry = get_entry(shape.model)
    model_cfg = from_dict(entry.config_cls, config["model_config"], where=f"{where}: model_config")
    return entry.build(model_cfg, shape.image_shape, shape.num_classes)


def load_model(target: str | Path, *, use_ema: bool = True, device: str = "cpu") -> tuple[nn.Module, dict]:
    """A model ready to sample from a checkpoint file, a run folder (its newest valid checkpoint) or
    pretrained:NAME; every problem with the file is a one-line GenvisionError."""
    path, state = load_target(target)
    model = build_from_config(state.config, where=str(path))
    weights = state.ema if (use_ema and state.ema) else state.model
    model.load_state_dict(match_state_dict(weights, model.state_dict(), where=str(path)))
    return model.to(device).eval(), state.config
