"""Small matplotlib plots of stored numbers: the training curve, and metrics against a guidance value or t."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    return path


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
    return _save(fig, path)


def plot_series(xs: Sequence[float], series: dict[str, Sequence[float]], path: Path, *, xlabel: str,
                ylabel: str, title: str = "", ylim: tuple[float, float] | None = None) -> Path:
    """One marked line per named series over xs, e.g. stored accuracy against the CFG weight or against t."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.3))
    for i, (name, ys) in enumerate(series.items()):
        ax.plot(xs, ys, "o-", color=f"C{i}", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return _save(fig, path)


def add_title(path: Path, text: str) -> Path:
    """Write `text` in a white strip above a PNG made by another module's plot (e.g. how many samples each
    point of diffusion/sweep.py's trade-off plot stands for); returns the same path."""
    from PIL import Image, ImageDraw

    with Image.open(path) as img:
        img = img.convert("RGB")
    out = Image.new("RGB", (img.width, img.height + 18), (255, 255, 255))
    out.paste(img, (0, 18))
    ImageDraw.Draw(out).text((8, 3), text, fill=(0, 0, 0))
    out.save(path)
    return path
