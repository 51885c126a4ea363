"""One report section per model: the sample grid and the training curve every model gets, then the lecture
figures its registry entry declares (entry.figures, names looked up in FIGURES)."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import torch

from genvision import protocols
from genvision.errors import GenvisionError
from genvision.report import autoregressive, diffusion, latent
from genvision.report.curves import plot_training_curve
from genvision.report.page import Figure, Item, Note, Section
from genvision.report.targets import ReportOptions, ReportTarget

# (the model, every model of the report, options) -> figures and notes
FigureBuilder = Callable[[ReportTarget, list[ReportTarget], ReportOptions], list[Item]]

FIGURES: dict[str, FigureBuilder] = {
    "filmstrip": diffusion.filmstrip,
    "cfg-grid": diffusion.cfg_grid,
    "cfg-tradeoff": diffusion.cfg_tradeoff,
    "accuracy-by-t": diffusion.accuracy_by_t,
    "classifier-guidance": diffusion.classifier_guidance,
    "completions": autoregressive.completions,
    "receptive-field": autoregressive.receptive_field,
    "reconstructions": latent.reconstructions,
    "patch-vq": latent.patch_vq,
    "components": latent.components,
}


def declared_figures(kind: str) -> tuple[FigureBuilder, ...]:
    """The figure builders the registry entry of model `kind` declares."""
    from genvision.models import get_entry

    return tuple(FIGURES[name] for name in get_entry(kind).figures)


def sample_options(t: ReportTarget, opts: ReportOptions) -> dict[str, object]:
    """The model's registered sampling defaults (what `genvision sample` uses), with the report's DDIM steps."""
    from genvision.models import get_entry

    options = dataclasses.asdict(get_entry(t.kind).sample_options())
    if "steps" in options:
        options["steps"] = opts.steps
    return options


def sample_grid(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """About opts.n samples; a class-conditional model gets one column per class, a mixture one per component
    (whole rows of them)."""
    from genvision.viz.grid import save_grid

    if not isinstance(t.model, protocols.Sampler):
        return []
    k = protocols.sample_grid(t.model, 1).columns
    n = k * math.ceil(opts.n / k) if k else opts.n
    grid = protocols.sample_grid(t.model, n)
    options = sample_options(t, opts)
    with torch.no_grad():
        images = t.model.sample(n, generator=torch.Generator().manual_seed(opts.seed), **grid.conditions, **options)
    path = save_grid(images.float().clamp(-1, 1).cpu(), opts.figure_path(t, "samples"), nrow=k or min(n, 8),
                     scale=2, col_labels=[str(c) for c in range(k)] if k else None)
    shown = ", ".join(f"{key}={value}" for key, value in options.items()
                      if key in ("steps", "temperature", "guidance_weight") and value is not None)
    columns = f" (one column per {grid.per})" if k else ""
    return [Figure(path, f"{n} samples{columns}, seed {opts.seed}{', ' + shown if shown else ''}.")]


def training_curve(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """The stored training log as a plot (a note when the run recorded none)."""
    path = plot_training_curve(t.curve, opts.figure_path(t, "curve"), title=t.name)
    if path is None:
        return [Note("No training curve was recorded.")]
    val = sum(1 for r in t.curve if "val/loss" in r)
    return [Figure(path, f"Training loss against step (line) and validation loss ({val} points).")]


def model_section(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> Section:
    """The section of one model. A figure that cannot be drawn (a GenvisionError, e.g. a classifier trained
    with another noise schedule) becomes a note; any other error is a bug and propagates."""
    from genvision import pretrained

    headline = pretrained.headline(t.metrics)
    section = Section(anchor=t.name, title=f"{t.name} ({t.kind})", description=t.description, facts=t.facts,
                      metrics=t.metrics, headline="" if headline == "-" else headline)
    for build in (sample_grid, training_curve, *declared_figures(t.kind)):
        t0 = time.time()
        try:
            section.items += build(t, targets, opts)
        except GenvisionError as err:
            section.items.append(Note(f"{build.__name__.replace('_', ' ')}: not drawn ({err})"))
        print(f"  [{t.name}] {build.__name__}: {time.time() - t0:.1f}s", flush=True)
    return section

