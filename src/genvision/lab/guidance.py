"""The two guidance tabs: classifier-free guidance on the class-conditional DDPM (Ho & Salimans 2022) and
classifier guidance of the unconditional DDPM by the noise-aware classifier (Dhariwal & Nichol 2021)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from genvision.diffusion.samplers import ddim_sample, standard_normal
from genvision.errors import GenvisionError
from genvision.lab.figures import figure_to_array
from genvision.lab.images import check_label, show_grid
from genvision.nn.classifier_free import classifier_free_mix
from genvision.protocols import NoisyClassifier, num_labels
from genvision.viz.plots import pyplot

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what) -> None
ROW_LAMBDAS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0)  # the lambda row: unconditional .. w = 6 (CFG Fig. 1)


def lambda_to_weight(lam: float) -> float:
    """The lecture's lam (eps~ = lam eps_c + (1 - lam) eps_u) -> the paper's w (eps~ = (1 + w) eps_c - w eps_u,
    CFG Eq. 6): the same mix when lam = 1 + w. lam = 0: unconditional, 1: plain conditional, 7: w = 6."""
    return float(lam) - 1.0


def describe_weight(lam: float) -> str:
    """One line with the three conventions of the same guidance strength."""
    w = lambda_to_weight(lam)
    kind = "unconditional" if lam == 0 else "the plain conditional model" if lam == 1 else (
        "between unconditional and conditional" if lam < 1 else "beyond the label (guided)")
    return (f"λ = {lam:g}  ⇔  w = λ − 1 = {w:g} (CFG Eq. 6)  ⇔  diffusers scale s = 1 + w = {lam:g}: {kind}")


def _step_callback(total: int, progress: Progress | None, what: str, inner=None):
    def callback(i: int, t: int, x_t: Tensor, x0_pred: Tensor) -> None:
        if inner is not None:
            inner(i, t, x_t, x0_pred)
        if progress is not None:
            progress((i + 1) / total, what)

    return callback


class CFGResult(NamedTuple):
    grid: np.ndarray  # n samples of the class at lam, upscaled uint8
    filmstrip: np.ndarray  # two rows over the steps: x_t (top) and the predicted x_0 (bottom) of sample 0
    lambda_row: np.ndarray  # sample 0's noise at each of `row_lambdas`
    text: str
    samples: Tensor  # (n, C, H, W) in [-1, 1]
    row: Tensor  # (len(row_lambdas), C, H, W) in [-1, 1]


def per_sample_cfg_eps(model: nn.Module, labels: Tensor, weights: Tensor):
    """eps~_i = (1 + w_i) eps(x_i, y_i) - w_i eps(x_i, null) with one weight per image (CFG Eq. 6), one batched
    forward of size 2B per step: the lambda row in a single sampling run. weights: (B,)."""
    both = torch.cat([labels, torch.full_like(labels, model.null_label)])
    w = weights.view(-1, 1, 1, 1)
    denoise = model.chain_denoiser()  # one chain: a self-conditioned model sees its previous x_0

    def eps_fn(x: Tensor, t: Tensor) -> Tensor:
        eps_c, eps_u = denoise(torch.cat([x, x]), torch.cat([t, t]), both).chunk(2)
        return classifier_free_mix(eps_c, eps_u, w)

    return eps_fn


@torch.no_grad()
def cfg_tab(model: nn.Module, *, label: int, lam: float, steps: int = 10, seed: int = 0, n: int = 4,
            frames: int = 8, row_lambdas: Sequence[float] = ROW_LAMBDAS,
            progress: Progress | None = None) -> CFGResult:
    """Classifier-free guided DDIM samples of one class.

    model: a class-conditional DiffusionModel trained with label dropout; lam >= 0 in the lecture's convention
    (converted by lambda_to_weight). The n samples start from x_T ~ N(0, I) drawn from `seed` (as
    model.sample would), the lambda row from sample 0's x_T; all of them run as one batch. Deterministic DDIM
    (η = 0: model.sample(eta=0) with the same x_T), so that x_T alone fixes each image of the row; unlike the
    stochastic default of model.sample it can leave faint salt (docs/diffusion.md Sec. 11)."""
    if not num_labels(model):
        raise GenvisionError("classifier-free guidance needs a class-conditional model")
    label = check_label(label, num_labels(model))
    if lam < 0:
        raise GenvisionError(f"λ must be >= 0, got {lam}")
    states: list[tuple[Tensor, Tensor]] = []
    keep = set(np.linspace(0, steps - 1, min(frames, steps)).round().astype(int).tolist())

    def record(i: int, t: int, x_t: Tensor, x0_pred: Tensor) -> None:
        if i in keep:
            states.append((x_t[0].clamp(-1, 1), x0_pred[0]))

    k = len(row_lambdas)
    x_T = standard_normal((n, *model.image_shape), generator=torch.Generator().manual_seed(seed), device="cpu")
    x_T = torch.cat([x_T, x_T[:1].expand(k, -1, -1, -1)])
    weights = torch.tensor([lambda_to_weight(lam)] * n + [lambda_to_weight(v) for v in row_lambdas])
    labels = torch.full((n + k,), label, dtype=torch.long)
    out = ddim_sample(per_sample_cfg_eps(model, labels, weights), model.schedule, tuple(x_T.shape), steps=steps,
                      x_T=x_T, callback=_step_callback(steps, progress, "DDIM", record))
    samples, row = out[:n], out[n:]
    film = torch.stack([s[0] for s in states] + [s[1] for s in states])
    return CFGResult(show_grid(samples, nrow=min(n, 8)), show_grid(film, nrow=len(states)),
                     show_grid(row, nrow=k), describe_weight(lam), samples, row)


class ClassifierGuidanceResult(NamedTuple):
    grid: np.ndarray  # n guided samples, upscaled uint8
    plot: np.ndarray  # p(y | x_t, t) over the steps, rendered
    text: str
    timesteps: list[int]  # t of each step, descending
    prob: Tensor  # (steps, n): the classifier's p(y | x_t, t) of the target class at each step


@torch.no_grad()
def classifier_guidance_tab(model: nn.Module, classifier: nn.Module, *, label: int, scale: float,
                            sampler: str = "ddim", steps: int = 20, seed: int = 0, n: int = 4,
                            progress: Progress | None = None) -> ClassifierGuidanceResult:
    """Samples of the unconditional DDPM guided towards `label` by the noisy classifier with scale s (ADM-G:
    Algorithm 2 for DDIM, Algorithm 1 for ancestral DDPM over all T steps), and the classifier's p(y | x_t, t)
    on the states the sampler visits."""
    if not isinstance(classifier, NoisyClassifier):
        raise GenvisionError(f"{type(classifier).__name__} is not a noise-aware classifier p(y | x_t, t)")
    label = check_label(label, classifier.num_classes_out)
    if sampler not in ("ddim", "ddpm"):
        raise GenvisionError(f"sampler must be ddim or ddpm, got {sampler!r}")
    total = steps if sampler == "ddim" else model.schedule.num_timesteps
    ts: list[int] = []
    probs: list[Tensor] = []

    def record(i: int, t: int, x_t: Tensor, x0_pred: Tensor) -> None:
        tt = torch.full((x_t.shape[0],), t, dtype=torch.long)
        ts.append(t)
        probs.append(classifier(x_t, tt).float().softmax(-1)[:, label])

    labels = torch.full((n,), label, dtype=torch.long)
    samples = model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed), sampler=sampler,
                           steps=steps if sampler == "ddim" else None, classifier=classifier,
                           classifier_scale=float(scale),
                           callback=_step_callback(total, progress, sampler, record))
    prob = torch.stack(probs)
    final = classifier(samples, torch.zeros(n, dtype=torch.long)).float().softmax(-1)
    hit = float((final.argmax(-1) == label).float().mean())
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 2.8))
    ax.plot(ts, prob.numpy(), color="C0", alpha=0.25, lw=1)
    ax.plot(ts, prob.mean(1).numpy(), color="C3", lw=2, label="mean over samples")
    ax.set_xlim(max(ts), 0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("timestep t (sampling runs right to left →)")
    ax.set_ylabel(f"p(y={label} | x_t)")
    ax.set_title(f"noisy classifier on the sampler's x_t, s = {scale:g}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    text = (f"s = {scale:g}, {sampler} ({total} steps): the classifier puts the final samples in class {label} "
            f"for {hit:.0%} of them; mean p(y | x_0) = {float(final[:, label].mean()):.2f}")
    return ClassifierGuidanceResult(show_grid(samples, nrow=min(n, 8)), figure_to_array(fig), text, ts, prob)
