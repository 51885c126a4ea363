"""A real checkpoint of a tiny model (the class-conditional pixelcnn `tiny` preset on 1x8x8 images), written
without training, for the integrity and fuzz tests."""

from __future__ import annotations

from pathlib import Path

import torch

from genvision.models import get_entry, make_run_spec, run_config_dict
from genvision.train import checkpoint as ckpt


def tiny_run_config(model: str = "pixelcnn") -> dict:
    spec = make_run_spec(model, preset="tiny", overrides={"data": "digits"})
    return run_config_dict(spec, image_shape=(1, 8, 8), num_classes=10)


def tiny_model(config: dict):
    from genvision.config import from_dict

    entry = get_entry(config["model"])
    torch.manual_seed(0)
    return entry.make(from_dict(entry.config_cls, config["model_config"]), (1, 8, 8), 10)


def write_tiny_run(run_dir: Path, *, steps=(1, 2, 3), model: str = "pixelcnn") -> list[Path]:
    """A run folder as the trainer leaves it: config.json and one checkpoint per step."""
    config = tiny_run_config(model)
    net = tiny_model(config)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt.atomic_write_json(run_dir / "config.json", config)
    paths = []
    for step in steps:
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.01)
        paths.append(ckpt.save_checkpoint(ckpt.checkpoint_path(run_dir, step), step=step, config=config,
                                          model=net.state_dict(), ema=net.state_dict()))
    return paths
