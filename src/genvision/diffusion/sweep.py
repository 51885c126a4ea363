"""Guidance sweeps: the fidelity/diversity trade-off of CFG (Ho & Salimans 2022, Table 1 / Fig. 1) and of
classifier guidance, measured with the evaluation classifier, plus the class x weight image grid."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from genvision.protocols import by_row
from genvision.viz.grid import save_grid


def _sample(model, labels: Tensor, *, seed: int, batch: int, **options) -> Tensor:
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    out = [model.sample(len(chunk), labels=chunk.to(device), generator=gen, **options).cpu()
           for chunk in labels.split(batch)]
    return torch.cat(out).float().clamp(-1, 1)


def guidance_sweep(model, *, values: Sequence[float], option: str, n_per_class: int, num_classes: int,
                   data: str, classifier_path: str | None, seed: int = 0, batch: int = 250,
                   **sample_options) -> list[dict[str, Any]]:
    """For each guidance value (passed to model.sample as `option`), sample n_per_class images per class
    and score them: evaluation-classifier accuracy, Frechet distance, precision and recall."""
    from genvision.eval.scoring import score_images

    labels = by_row(num_classes, n_per_class)
    rows = []
    for v in values:
        images = _sample(model, labels, seed=seed, batch=batch, **{option: v}, **sample_options)
        scores = score_images(images, labels, metrics=["fid", "pr", "accuracy"], data=data, split="val",
                              classifier_path=classifier_path)
        rows.append({option: v, "accuracy": scores["accuracy"], "frechet_distance": scores["frechet_distance"],
                     "precision": scores["precision"], "recall": scores["recall"]})
    return rows


def class_by_weight_grid(model, path: Path, *, values: Sequence[float], option: str, num_classes: int,
                         seed: int = 0, label_fmt: str = "{}", **sample_options) -> Path:
    """One row per class, one column per guidance value; each column starts from the same noise."""
    labels = torch.arange(num_classes)
    columns = [_sample(model, labels, seed=seed, batch=num_classes, **{option: v}, **sample_options)
               for v in values]
    grid = torch.stack(columns, dim=1).flatten(0, 1)  # (classes * values, C, H, W), row-major by class
    return save_grid(grid, path, nrow=len(values), scale=2, row_labels=[str(k) for k in range(num_classes)],
                     col_labels=[label_fmt.format(v) for v in values])


def plot_tradeoff(rows: list[dict[str, Any]], option: str, path: Path, *, title: str = "") -> Path:
    """Accuracy / precision / recall (left) and Frechet distance (right) against the guidance value; title: e.g.
    how many samples each point stands for."""
    from genvision.viz.plots import pyplot, save_figure

    xs = [r[option] for r in rows]
    fig, (ax1, ax2) = pyplot().subplots(1, 2, figsize=(9, 3.6 if title else 3.4))
    if title:
        fig.suptitle(title, fontsize=9)
    ax1.plot(xs, [r["accuracy"] for r in rows], "o-", label="classifier accuracy")
    ax1.plot(xs, [r["precision"] for r in rows], "s--", label="precision")
    ax1.plot(xs, [r["recall"] for r in rows], "^--", label="recall")
    ax1.set_xlabel(option)
    ax1.set_ylim(0, 1.02)
    ax1.legend()
    ax2.plot(xs, [r["frechet_distance"] for r in rows], "o-", color="C3")
    ax2.set_xlabel(option)
    ax2.set_ylabel("Frechet distance (eval features)")
    return save_figure(fig, path, dpi=110)


def write_sweep(rows: list[dict[str, Any]], out_dir: Path, name: str, option: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    table = out_dir / f"{name}.json"
    table.write_text(json.dumps(rows, indent=2) + "\n")
    return table, plot_tradeoff(rows, option, out_dir / f"{name}.png")
