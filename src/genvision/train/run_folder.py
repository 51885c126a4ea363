"""The layout of a run folder as the trainer writes it: RUN/checkpoints/step_*.safetensors and RUN/metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path


def run_folder(target: str | Path) -> Path:
    """The run folder of a run folder or of a checkpoint inside one (RUN/checkpoints/x or RUN/x)."""
    target = Path(target)
    if target.is_dir():
        return target
    return target.parent.parent if target.parent.name == "checkpoints" else target.parent


def training_curve(run: str | Path, *, max_points: int = 200) -> list[dict[str, float]]:
    """RUN/metrics.jsonl as a curve, by step: at most ~max_points training rows {"step", "loss", "lr"} (evenly
    strided) and every validation row (keys "val/..."); [] when the run logged nothing."""
    path = Path(run) / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    train = [r for r in rows if "loss" in r]
    stride = max(1, len(train) // max_points)
    keep = {"step", "loss", "lr"}
    curve = [{k: v for k, v in r.items() if k in keep} for r in train[::stride]]
    curve += [r for r in rows if any(k.startswith("val/") for k in r)]
    return sorted(curve, key=lambda r: r["step"])
