"""The one explicit list of model families: name -> ModelEntry, and run specs built from it.

Families declare their entries in their own `registry` module (importing only `genvision.entry`); this
module lists them. Loading checkpoints lives one layer up, in `genvision.loading`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from genvision.autoregressive.registry import ENTRY as PIXELCNN
from genvision.config import apply_overrides
from genvision.data.config import DataConfig
from genvision.diffusion.registry import ENTRIES as DIFFUSION
from genvision.dvae.registry import ENTRIES as DVAE
from genvision.entry import ModelEntry, NoOptions
from genvision.errors import GenvisionError
from genvision.eval.classifier import ENTRY as EVAL_CLASSIFIER
from genvision.train.config import TrainConfig
from genvision.vqvae.registry import ENTRIES as VQVAE

__all__ = ["ENTRIES", "ModelEntry", "NoOptions", "RunSpec", "get_entry", "make_run_spec", "registry",
           "run_config_dict"]

ENTRIES: tuple[ModelEntry, ...] = (*DIFFUSION, PIXELCNN, *VQVAE, *DVAE, EVAL_CLASSIFIER)


class RunSpec(NamedTuple):
    model: str
    preset: str
    model_config: Any
    train: TrainConfig
    data: DataConfig


def registry() -> dict[str, ModelEntry]:
    return {e.name: e for e in ENTRIES}


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
    configs = entry.option_configs()
    hidden = entry.hidden_fields()
    if preset:
        configs = apply_overrides(configs, entry.presets[preset], hidden=hidden)
    configs = apply_overrides(configs, overrides or {}, hidden=hidden)
    return RunSpec(name, preset, configs["model"], configs["train"], configs["data"])


def run_config_dict(spec: RunSpec, *, image_shape: tuple[int, int, int], num_classes: int,
                    requires: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON saved as config.json and inside every checkpoint. requires: the run configs of the models it
    was built on (a prior's first stage), so one file rebuilds it without the other run's folder."""
    out = {
        "model": spec.model,
        "preset": spec.preset,
        "model_config": dataclasses.asdict(spec.model_config),
        "train": dataclasses.asdict(spec.train),
        "data": dataclasses.asdict(spec.data),
        "image_shape": list(image_shape),
        "num_classes": num_classes,
    }
    if requires:
        out["requires"] = {k: dict(v) for k, v in requires.items()}
    return out
