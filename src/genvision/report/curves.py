"""The training-curve plot of a report section, from the stored log rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genvision.viz.plots import pyplot, save_figure


def plot_training_curve(curve: Sequence[dict[str, Any]], path: Path, *, title: str = "") -> Path | None:
    """Training loss against step (line) with the validation loss (points); a log y axis when the loss spans
    more than a factor of 10. curve: rows {"step", "loss", ...} and {"step", "val/loss", ...}. None if there
    is no loss to plot."""
    train = [(r["step"], r["loss"]) for r in curve if isinstance(r.get("loss"), int | float)]
    val = [(r["step"], r["val/loss"]) for r in curve if isinstance(r.get("val/loss"), int | float)]
    if not train and not val:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    if train:
        ax.plot(*zip(*train, strict=True), "-", lw=1.2, label="train loss")
    if val:
        ax.plot(*zip(*val, strict=True), "o", color="C3", label="val loss")
    values = [v for _, v in train + val]
    if min(values) > 0 and max(values) / min(values) > 10:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
