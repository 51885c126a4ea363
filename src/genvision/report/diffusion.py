"""Diffusion figures of the report: the CFG class x weight grid and trade-off, the denoising filmstrip, the
noisy classifier's accuracy over t and classifier-guided samples. They reuse diffusion/sweep.py and
diffusion/filmstrip.py; guidance is only re-measured when the report is asked to (--measure)."""

from __future__ import annotations

import re
from typing import Any

import torch

from genvision.protocols import labels_for
from genvision.report.page import Figure, Item, Note
from genvision.report.targets import ReportOptions, ReportTarget
from genvision.viz.plots import plot_series

CFG_WEIGHTS = (0.0, 1.0, 3.0)
CLASSIFIER_SCALES = (0.0, 2.0, 8.0)
_SWEEP_KEYS = ("accuracy", "frechet_distance", "precision", "recall")


def filmstrip(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """x_t along the DDIM reverse process, one row per sample (class-conditional: one class per row, w=1)."""
    from genvision.diffusion.filmstrip import denoising_filmstrip

    k = t.num_classes
    n = min(opts.n, k or 8, 10)
    extra: dict[str, Any] = {"labels": labels_for(t.model, n), "guidance_weight": 1.0} if k else {}
    frames = min(10, opts.steps + 1)
    with torch.no_grad():
        path = denoising_filmstrip(t.model, opts.figure_path(t, "filmstrip"), n=n, frames=frames, seed=opts.seed,
                                   steps=opts.steps, **extra)
    what = "classes 0.. top to bottom, CFG w=1" if k else "unconditional"
    return [Figure(path, f"Denoising filmstrip: x_t from pure noise (left) to x_0 (right), DDIM {opts.steps} "
                         f"steps, {n} samples ({what}).")]


def cfg_grid(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """One row per class, one column per CFG weight w; a row starts from the same noise in every column."""
    from genvision.diffusion.sweep import class_by_weight_grid

    with torch.no_grad():
        path = class_by_weight_grid(t.model, opts.figure_path(t, "cfg-grid"), values=CFG_WEIGHTS,
                                    option="guidance_weight", num_classes=t.num_classes, seed=opts.seed,
                                    steps=opts.steps, label_fmt="w={}")
    return [Figure(path, f"Classifier-free guidance: class (rows) x weight w (columns, same noise per row), "
                         f"DDIM {opts.steps} steps. w=0 is the plain conditional model.")]


def stored_sweep(metrics: dict[str, Any], option: str = "guidance_weight") -> list[dict[str, Any]]:
    """Trade-off rows {option, accuracy, frechet_distance, precision, recall} from stored metrics: a stored
    sweep (a list of such rows) if there is one, else the keys KEY (w=0) and KEY@w=W of the pretrained build.
    Only values with all four numbers are kept, sorted by the guidance value."""
    for value in metrics.values():
        if isinstance(value, list) and value and all(isinstance(r, dict) and option in r for r in value):
            return sorted((r for r in value if all(k in r for k in _SWEEP_KEYS)), key=lambda r: r[option])
    by_w: dict[float, dict[str, Any]] = {}
    for key, value in metrics.items():
        m = re.fullmatch(r"(\w+?)(?:@w=([-+0-9.eE]+))?", key)
        if m and m.group(1) in _SWEEP_KEYS and isinstance(value, int | float):
            w = float(m.group(2)) if m.group(2) else 0.0
            by_w.setdefault(w, {option: w})[m.group(1)] = float(value)
    return [by_w[w] for w in sorted(by_w) if all(k in by_w[w] for k in _SWEEP_KEYS)]


def _measured_sweep(t: ReportTarget, opts: ReportOptions, *, option: str, values: tuple[float, ...],
                    **extra) -> list[dict[str, Any]]:
    from genvision import pretrained
    from genvision.diffusion.sweep import guidance_sweep

    clf = "pretrained:eval-classifier-mnist" if "eval-classifier-mnist" in pretrained.shipped() else None
    with torch.no_grad():
        return guidance_sweep(t.model, values=values, option=option, n_per_class=opts.n,
                              num_classes=int(t.config["num_classes"]),
                              data=t.data, classifier_path=clf, seed=opts.seed, steps=opts.steps, **extra)


def cfg_tradeoff(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """Accuracy / precision / recall and Frechet distance against w: measured (--measure) or stored."""
    from genvision.diffusion.sweep import plot_tradeoff

    if opts.measure:
        rows = _measured_sweep(t, opts, option="guidance_weight", values=CFG_WEIGHTS)
        source = f"measured now: {opts.n * t.num_classes} samples per w, DDIM {opts.steps} steps"
    else:
        rows = stored_sweep(t.metrics)
        n = t.metrics.get("n", "?")
        source = f"stored evaluation, n={n} samples per point"
    if not rows:
        return [Note("CFG trade-off: no stored accuracy / Frechet distance for any w (run with --measure).")]
    path = plot_tradeoff(rows, "guidance_weight", opts.figure_path(t, "cfg-tradeoff"), title=source)
    ws = ", ".join(f"{r['guidance_weight']:g}" for r in rows)
    return [Figure(path, f"CFG fidelity/diversity trade-off at w = {ws} ({source}). Higher w: class accuracy "
                         "up, diversity (recall) down; Frechet distance in eval-classifier features.")]


def accuracy_by_t(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """The noisy classifier's stored accuracy on q(x_t | x_0) against t."""
    acc = t.metrics.get("accuracy_by_t")
    if not isinstance(acc, dict) or not acc:
        return [Note("No stored accuracy_by_t (genvision eval of the noisy classifier writes it).")]
    ts = sorted(acc, key=float)
    path = plot_series([float(s) for s in ts], {"accuracy": [acc[s] for s in ts]},
                       opts.figure_path(t, "accuracy-by-t"), xlabel="timestep t", ylabel="accuracy on q(x_t | x_0)",
                       title=f"stored evaluation, n={t.metrics.get('n', 'val split')}", ylim=(0, 1.02))
    return [Figure(path, "Accuracy of p(y | x_t, t) on noised held-out images against t (stored): the "
                         "gradient that guides sampling is informative until t nears T.")]


def _guided_by(sampler: ReportTarget, classifier: ReportTarget) -> list[str]:
    """The sampling options of `sampler` that take a model of the classifier's kind (its entry's
    sample_requires), e.g. ["classifier"] for a ddpm and a noisy classifier."""
    from genvision.models import get_entry

    return [key for key, kind in get_entry(sampler.kind).sample_requires.items() if kind == classifier.kind]


def classifier_guidance(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """Classifier guidance (ADM-G, DDIM form) of the report's unconditional DDPM by this noisy classifier:
    class x scale grid, and accuracy vs scale when measuring."""
    from genvision.diffusion.sweep import class_by_weight_grid, plot_tradeoff

    # An unconditional model of the report whose entry takes a model of this kind as a sampling option
    # (sample_requires): classifier guidance is what gives it labels.
    found = next(((d, key) for d in targets if d.num_classes == 0 for key in _guided_by(d, t)), None)
    if found is None:
        return [Note("Classifier-guided samples need an unconditional ddpm model in the same report.")]
    ddpm, key = found
    with torch.no_grad():
        grid = class_by_weight_grid(ddpm.model, opts.figure_path(t, "guided-grid"), values=CLASSIFIER_SCALES,
                                    option="classifier_scale", num_classes=int(t.config["num_classes"]), seed=opts.seed,
                                    steps=opts.steps, label_fmt="s={}", **{key: t.model})
    items: list[Item] = [Figure(grid, f"Classifier guidance of {ddpm.target} by this classifier: class (rows) x "
                                      f"scale s (columns, same noise per row), DDIM {opts.steps} steps; s=0 is "
                                      "the unguided model, whose samples ignore the row's class.")]
    if opts.measure:
        rows = _measured_sweep(ddpm, opts, option="classifier_scale", values=CLASSIFIER_SCALES, **{key: t.model})
        source = f"measured now: {opts.n * int(ddpm.config['num_classes'])} samples per s, DDIM {opts.steps} steps"
        path = plot_tradeoff(rows, "classifier_scale", opts.figure_path(t, "guided-tradeoff"), title=source)
        items.append(Figure(path, f"Classifier guidance trade-off ({source}); with few samples the Frechet "
                                  "distance is dominated by its small-sample bias."))
    elif rows := stored_sweep(t.metrics, "classifier_scale"):
        source = "stored evaluation, " + str(t.metrics.get("classifier_guidance_sweep_note", "n=500 per point"))
        path = plot_tradeoff(rows, "classifier_scale", opts.figure_path(t, "guided-tradeoff"), title=source)
        items.append(Figure(path, f"Classifier guidance: class accuracy, precision/recall and Frechet distance "
                                  f"against the scale s ({source})."))
    else:
        items.append(Note("Accuracy against the guidance scale is not measured by default (slow on a CPU); "
                          "the accuracy-over-t plot above is the stored evidence. --measure adds it."))
    return items
