"""`--resume`: a run continues with the config it was started with, read from the run folder.

The config comes from the newest valid checkpoint (hash-checked; the one the run resumes from), so every
flag need not be repeated and a different preset cannot meet weights of another shape. Flags may change only
what does not change the model or the optimisation already done (SAFE_ON_RESUME); a flag that repeats the
stored value is accepted; anything else is refused with one line naming each refused flag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from genvision.config import apply_overrides, from_dict
from genvision.data.config import DataConfig
from genvision.errors import GenvisionError
from genvision.train import checkpoint as ckpt
from genvision.train.config import TrainConfig
from genvision.train.run_config import check_run_config

# TrainConfig fields a resumed run may change: how long it runs, what it logs and how often it saves or
# evaluates, and where it runs. Everything else (model, data, lr, batch, seed, EMA, ...) is the run's own.
SAFE_ON_RESUME = frozenset({
    "steps", "log_every", "val_every", "val_batches", "sample_every", "num_samples", "ckpt_every",
    "keep_checkpoints", "progress", "tensorboard", "device",
})


class ResumedRun(NamedTuple):
    """The same fields as models.RunSpec, plus the checkpoint to restore and what the flags changed."""

    model: str
    preset: str
    model_config: Any
    train: TrainConfig
    data: DataConfig
    checkpoint: ckpt.Checkpoint
    checkpoint_path: Path
    changed: dict[str, tuple[Any, Any]]  # field -> (stored value, new value)


def resume_run(run_dir: str | Path, *, model: str, model_config_cls: type, preset: str | None,
               overrides: Mapping[str, Any], warn: ckpt.Warn = ckpt.warn_stderr,
               hidden: Mapping[str, frozenset[str]] | None = None) -> ResumedRun:
    """The stored run config of `run_dir` with the safe `overrides` (`--key=value` strings) applied.

    Errors: no run folder; no valid checkpoint; a run of another model; a preset or any unsafe flag that
    differs from the stored value."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GenvisionError(f"--resume: there is no run folder {run_dir} (train without --resume to start it)")
    if not ckpt.list_checkpoints(run_dir):
        raise GenvisionError(f"--resume: run folder {run_dir} has no checkpoint to resume from "
                             "(train without --resume to start it over)")
    found = ckpt.newest_valid_checkpoint(run_dir, warn=warn)
    if found is None:
        raise GenvisionError(f"--resume: run folder {run_dir} has no valid checkpoint (each was skipped); "
                             "nothing to resume")
    path, state = found
    ckpt.check_family(path, state, run_dir)
    stored = state.config
    shape = check_run_config(stored, where=str(path))
    if shape.model != model:
        raise GenvisionError(f"--resume: {run_dir} is a {shape.model!r} run, not {model!r}")
    stored_preset = str(stored.get("preset", ""))
    refused = []
    if preset is not None and preset != stored_preset:
        refused.append(f"--preset={preset} (the run has {stored_preset or 'none'})")
    configs = {
        "model": from_dict(model_config_cls, stored["model_config"], where=f"{path}: model_config"),
        "train": from_dict(TrainConfig, stored.get("train", {}), where=f"{path}: train"),
        "data": from_dict(DataConfig, stored.get("data", {}), where=f"{path}: data"),
    }
    new = apply_overrides(configs, overrides, hidden=hidden)  # hidden: the entry's derived fields
    changed: dict[str, tuple[Any, Any]] = {}
    for name in configs:
        before, after = dataclasses.asdict(configs[name]), dataclasses.asdict(new[name])
        for key, value in after.items():
            if value == before[key]:
                continue
            if name == "train" and key in SAFE_ON_RESUME:
                changed[key] = (before[key], value)
            else:
                refused.append(f"--{key}={value} (the run has {before[key]})")
    if refused:
        raise GenvisionError(
            f"--resume continues {run_dir} with its stored config; refused: {', '.join(refused)}. A resumed run "
            f"may change only {', '.join(sorted(SAFE_ON_RESUME))}; start a new run (--name=NEW) to change more")
    if new["train"].steps <= state.step:
        raise GenvisionError(f"--resume: {run_dir} is already at step {state.step} of steps={new['train'].steps}; "
                             f"pass --steps=N with N > {state.step} to train further")
    return ResumedRun(model, stored_preset, new["model"], new["train"], new["data"], state, path, changed)


def check_resumed_data(resumed: ResumedRun, *, image_shape: tuple[int, int, int], num_classes: int) -> None:
    """The data the resumed run loads must still have the stored image shape and number of classes."""
    stored = check_run_config(resumed.checkpoint.config)
    if tuple(image_shape) != stored.image_shape or num_classes != stored.num_classes:
        raise GenvisionError(
            f"--resume: the data now loads as {tuple(image_shape)} images with {num_classes} classes, but the run "
            f"was trained on {stored.image_shape} with {stored.num_classes}; refusing to resume on other data")
