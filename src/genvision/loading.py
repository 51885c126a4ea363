"""Checkpoint -> model, building the models an entry declares it needs (a prior's first stage).

A run config may carry `requires: {field: run config of the dependency}` (written at training time), so a
prior rebuilds its frozen first stage from its own file; the first stage's weights travel in the prior's
state dict. Configs written before that (the shipped priors among them) name the first stage by path only:
its config is then read from that checkpoint, and its weights still come from the prior's file.

Targets are resolved here, not in train/: a checkpoint file or run folder (train/checkpoint.py, which knows
only files) or a shipped model, pretrained:NAME (genvision.pretrained), so the training layer never imports
the catalog of shipped models.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from genvision import pretrained
from genvision.config import from_dict
from genvision.data.config import DataConfig
from genvision.entry import ModelEntry
from genvision.errors import GenvisionError
from genvision.models import get_entry
from genvision.train.checkpoint import Checkpoint, load_checkpoint, load_target, resolve_checkpoint
from genvision.train.integrity import match_state_dict
from genvision.train.run_config import check_run_config


def resolve_target(target: str | Path) -> Path:
    """The checkpoint file a target names: a shipped model (pretrained:NAME, its recorded hash checked), a
    checkpoint file, or the newest checkpoint of a run folder."""
    if pretrained.is_pretrained(target):
        return pretrained.resolve(str(target))
    return resolve_checkpoint(target)


def read_target(target: str | Path) -> tuple[Path, Checkpoint]:
    """(file, verified checkpoint) of a target: a shipped model, a file as named, or the newest *valid*
    checkpoint of a run folder (train/checkpoint.py's load_target: newer broken ones skipped with a warning)."""
    if pretrained.is_pretrained(target):
        path = resolve_target(target)
        return path, load_checkpoint(path)
    return load_target(target)


def _data_config(config: Mapping[str, Any]) -> DataConfig:
    try:
        return from_dict(DataConfig, config.get("data") or {})
    except GenvisionError:
        return DataConfig()


def upgrade_keys(config_cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """A stored model config with the keys its class has renamed since (config_cls.RENAMED) under their new
    names, so checkpoints written before a rename keep loading."""
    renamed = getattr(config_cls, "RENAMED", {})
    return {renamed.get(k, k): v for k, v in values.items()}


def dependency_configs(entry: ModelEntry, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """field -> the run config of each declared dependency: embedded, or read from the named checkpoint."""
    embedded = dict(config.get("requires") or {})
    out: dict[str, dict[str, Any]] = {}
    for key in entry.requires:
        if key in embedded:
            out[key] = dict(embedded[key])
            continue
        path = config["model_config"].get(key, "")  # an old config: the first stage named by path only
        if not path:
            raise GenvisionError(f"{entry.name}: its config neither embeds nor names its {key!r} model")
        out[key] = dict(load_checkpoint(resolve_target(path)).config)
    return out


def build_from_config(config: Mapping[str, Any], *, where: str = "run config") -> nn.Module:
    """A model with fresh weights from a run config (dependencies rebuilt from their configs too); every key
    checked for presence and type first (train/run_config.py), one-line errors naming it."""
    shape = check_run_config(config, where=where)
    try:
        entry = get_entry(shape.model)
        model_cfg = from_dict(entry.config_cls, upgrade_keys(entry.config_cls, config["model_config"]),
                              where=f"{where}: model_config")
        deps = {key: build_from_config(dep, where=f"{where}: requires.{key}")
                for key, dep in dependency_configs(entry, config).items()}
        return entry.make(model_cfg, shape.image_shape, shape.num_classes, data=_data_config(config), deps=deps)
    except KeyError as exc:
        raise GenvisionError(f"{where}: checkpoint config lacks {exc}") from None


def load_model(target: str | Path, *, use_ema: bool = True, device: str = "cpu",
               expect: str | None = None) -> tuple[nn.Module, dict]:
    """A model ready to sample from a checkpoint file, a run folder (its newest checkpoint) or pretrained:NAME.
    expect: the model name it must be (a one-line error otherwise)."""
    path, state = read_target(target)  # hash-checked; a run folder falls back to its newest valid checkpoint
    if expect is not None and state.config.get("model") != expect:
        raise GenvisionError(f"{target} is a {state.config.get('model')!r} model, expected a {expect!r}")
    model = build_from_config(state.config, where=str(path))
    weights = state.ema if (use_ema and state.ema) else state.model
    model.load_state_dict(match_state_dict(weights, model.state_dict(), where=str(path)))
    return model.to(device).eval(), state.config


def load_dependencies(entry: ModelEntry, model_config: Any, *, device: str = "cpu"
                      ) -> tuple[dict[str, nn.Module], dict[str, dict[str, Any]]]:
    """At training time: load each model the entry requires from the path in its config field.

    Returns (field -> module with its trained weights, field -> its run config to embed)."""
    modules: dict[str, nn.Module] = {}
    configs: dict[str, dict[str, Any]] = {}
    for key, model_name in entry.requires.items():
        path = getattr(model_config, key)
        if not path:
            raise GenvisionError(f"{entry.name} needs --{key}=RUN_OR_CHECKPOINT of a trained {model_name} "
                                 f"(genvision train {model_name} --preset=...)")
        try:
            modules[key], configs[key] = load_model(path, device=device, expect=model_name)
        except GenvisionError as err:
            raise GenvisionError(f"{entry.name}: cannot load --{key}={path} ({err})") from None
    return modules, configs


def load_sample_requirements(entry: ModelEntry, options: Mapping[str, Any], *, device: str = "cpu"
                             ) -> dict[str, Any]:
    """Sample options with each path the entry declares in `sample_requires` replaced by the loaded module."""
    out = dict(options)
    for key, model_name in entry.sample_requires.items():
        value = out.get(key)
        if isinstance(value, str | Path) and str(value):
            out[key], _ = load_model(value, device=device, expect=model_name)
    return out
