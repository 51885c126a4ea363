"""PixelCNN figures of the report: image completion (PixelRNN Fig. 1) and the measured receptive fields."""

from __future__ import annotations

import torch

from genvision.report.page import Figure, Item
from genvision.report.targets import ReportOptions, ReportTarget, held_out_images

OBSERVED_ROWS = 14


def completions(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """A few held-out images with their bottom half hidden: occluded input | completions | original."""
    from genvision.autoregressive.completion import complete_images, completion_grid
    from genvision.viz.grid import save_grid

    n_img, n_samples = max(1, min(4, opts.n // 4)), 3
    x, labels = held_out_images(t, n_img, seed=opts.seed)
    labels = labels if t.num_classes else None
    rows = min(OBSERVED_ROWS, x.shape[-2])
    done = complete_images(t.model, x, labels=labels, observed_rows=rows, n_samples=n_samples, seed=opts.seed)
    grid = completion_grid(x, done, observed_rows=rows)
    path = save_grid(grid, opts.figure_path(t, "completions"), nrow=n_samples + 2, scale=2)
    given = " given the class" if t.num_classes else ""
    return [Figure(path, f"Completions{given}: each row is the input with all but the top {rows} rows hidden "
                         f"(grey), {n_samples} sampled completions, and the original.")]


def receptive_field(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """Which earlier pixels the centre output depends on (Jacobian of small random nets, not this model)."""
    from genvision.autoregressive.receptive_field import plot_receptive_field

    with torch.enable_grad():
        path = plot_receptive_field(opts.figure_path(t, "receptive-field"), seed=opts.seed)
    return [Figure(path, "Receptive field measured by the Jacobian (small random-weight nets of each "
                         "architecture): the PixelCNN's blind spot (orange) and the Gated PixelCNN's full field.")]
