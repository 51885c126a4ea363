"""matplotlib without a display: the pyplot module on the Agg backend, saving a figure, and a line plot of
named series (metrics against a guidance value or a timestep). Every plot of the package goes through here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, *, dpi: int = 100, tight: bool = True) -> Path:
    """Lay out (tight=True), write the PNG (creating its folder) and close the figure; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def plot_series(xs: Sequence[float], series: dict[str, Sequence[float]], path: str | Path, *, xlabel: str,
                ylabel: str, title: str = "", ylim: tuple[float, float] | None = None) -> Path:
    """One marked line per named series over xs, e.g. accuracy against the CFG weight or against t."""
    fig, ax = pyplot().subplots(figsize=(5, 3.3))
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
    return save_figure(fig, path)
