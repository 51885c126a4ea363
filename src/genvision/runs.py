"""Training a registered model as a library call: `train_run("cfg", preset="tiny", name="c")`.

The CLI's `train` and `demo` call this; so can a notebook or a test. It builds the declared dependencies
(a prior's first stage) and embeds their configs in the run's, so the run's checkpoints stand alone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.loading import load_dependencies
from genvision.models import get_entry, make_run_spec, run_config_dict
from genvision.outputs import check_output_dir


class TrainResult(NamedTuple):
    run_dir: Path
    metrics: dict[str, float]
    seconds: float


def train_run(model_name: str, *, preset: str | None = None, name: str | None = None,
              runs_dir: str | Path = "runs", resume: bool = False, overrides: Mapping[str, Any] | None = None,
              verbose: bool = True) -> TrainResult:
    """Train (or with resume=True continue) runs_dir/name (default MODEL-DATA); returns its final metrics."""
    from genvision.train.distributed import shutdown
    from genvision.train.trainer import Trainer

    spec = make_run_spec(model_name, preset=preset, overrides=overrides)
    entry = get_entry(model_name)
    run_dir = check_output_dir(Path(runs_dir) / (name or f"{model_name}-{spec.data.data}"), option="run folder")
    resumed = None
    if resume:  # the run's own stored config; flags may change only what is safe (train/resume.py)
        from genvision.train.resume import resume_run

        spec = resumed = resume_run(run_dir, model=model_name, model_config_cls=entry.config_cls, preset=preset,
                                    overrides=overrides or {}, hidden=entry.hidden_fields())
    d = spec.data
    kw = dict(data_dir=d.data_dir or None, seed=0, image_size=d.image_size or None, channels=d.channels or None)
    train_data = load_dataset(d.data, split="train", **kw)
    val_data = load_dataset(d.data, split="val", **kw)
    deps, dep_configs = load_dependencies(entry, spec.model_config)
    model = entry.make(spec.model_config, train_data.image_shape, train_data.num_classes, data=d, deps=deps)
    if run_dir.exists() and any(run_dir.glob("checkpoints/*.safetensors")) and not resume:
        raise GenvisionError(f"run folder {run_dir} already has checkpoints: pass --resume to continue it, "
                             "or --name=NEW for a new run")
    config = run_config_dict(spec, image_shape=train_data.image_shape, num_classes=train_data.num_classes,
                             requires=dep_configs)
    trainer = Trainer(model, train_data, config=spec.train, val_data=val_data, run_dir=run_dir,
                      run_config=config, batch_transform=spec.data.batch_transform())
    speak = verbose and trainer.dist.is_main
    if resumed is not None:
        from genvision.train.resume import check_resumed_data

        check_resumed_data(resumed, image_shape=train_data.image_shape, num_classes=train_data.num_classes)
        trainer.restore(resumed.checkpoint)
        changed = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in resumed.changed.items())
        if speak:
            print(f"resumed from step {resumed.checkpoint.step} ({resumed.checkpoint_path}) with its stored config"
                  + (f" ({changed})" if changed else ""))
    n_params = sum(p.numel() for p in model.parameters())
    if speak:
        print(f"training {model_name} (preset {spec.preset or '-'}, {n_params / 1e6:.2f}M params) on {d.data} "
              f"({len(train_data)} train / {len(val_data)} val) for {spec.train.steps} steps on {trainer.device}"
              f" -> {run_dir}")
    t0 = time.time()
    metrics = trainer.fit()
    seconds = time.time() - t0
    if speak:
        print(f"done in {seconds:.0f}s; " + ", ".join(
            f"{k}={v:.4g}" for k, v in metrics.items() if k.startswith("val/") or k == "loss"))
    shutdown(trainer.dist)
    return TrainResult(run_dir, metrics, seconds)
