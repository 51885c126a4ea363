"""Guidance as eps-function wrappers: classifier-free (Ho & Salimans 2022) and classifier (Dhariwal & Nichol 2021).

Three conventions for the classifier-free weight are in use; they are converted here and nowhere else:

| option              | formula                            | plain conditional | unconditional |
|---------------------|------------------------------------|-------------------|---------------|
| guidance_weight w   | (1 + w) eps_c - w eps_u  (CFG Eq. 6) | w = 0             | w = -1        |
| guidance_scale s    | eps_u + s (eps_c - eps_u) (diffusers) | s = 1             | s = 0         |
| guidance_lambda lam | lam eps_c + (1 - lam) eps_u (lecture) | lam = 1           | lam = 0       |

so s = 1 + w and lam = 1 + w: lam in [0, 1] interpolates between the two models, lam > 1 is guidance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from genvision.diffusion.samplers import Transition, TransitionHook, ddpm_sample
from genvision.errors import GenvisionError
from genvision.nn.classifier_free import classifier_free_mix

EpsFn = Callable[[Tensor, Tensor], Tensor]
Denoiser = Callable[[Tensor, Tensor, Tensor | None], Tensor]  # (x_t, t, labels or None) -> eps


def check_one_convention(*, weight: float | None = None, scale: float | None = None,
                         lam: float | None = None) -> list[tuple[str, float]]:
    """The CFG strengths given, as (option name, value); an error when more than one convention is."""
    given = [(n, v) for n, v in (("guidance_weight", weight), ("guidance_scale", scale),
                                 ("guidance_lambda", lam)) if v is not None]
    if len(given) > 1:
        raise GenvisionError("give only one of " + ", ".join(f"--{n.replace('_', '-')}" for n, _ in given))
    return given


def guidance_weight(*, weight: float | None = None, scale: float | None = None,
                    lam: float | None = None) -> float:
    """The paper's w from exactly one of the three conventions (none given -> w = 0, no guidance)."""
    given = check_one_convention(weight=weight, scale=scale, lam=lam)
    if not given:
        return 0.0
    name, value = given[0]
    if not math.isfinite(value):
        raise GenvisionError(f"--{name.replace('_', '-')} must be finite, got {value}")
    return value if name == "guidance_weight" else value - 1.0


def check_classifier_scale(classifier: object, scale: float) -> None:
    """A classifier-guidance scale s != 0 needs a noise-aware classifier: without one it would be silently
    ignored, so it is refused. `classifier`: a path / run name ("" = none) or a module. (A classifier at s = 0
    is plain sampling: a sweep's first point.)"""
    given = classifier is not None and not (isinstance(classifier, str) and not classifier)
    if not math.isfinite(scale):
        raise GenvisionError(f"--classifier-scale must be finite, got {scale}")
    if scale != 0.0 and not given:
        raise GenvisionError(f"--classifier-scale={scale:g} needs --classifier=NOISY_RUN (a noise-aware classifier "
                             "trained with `genvision train noisy-classifier`); without one it would be ignored")


def classifier_free_eps(denoise: Denoiser, labels: Tensor, *, null_label: int, weight: float) -> EpsFn:
    """eps~ = (1 + w) eps(x, y) - w eps(x, null)   (Ho & Salimans 2022, Eq. 6).

    The conditional and unconditional halves run as one batched forward pass of size 2B.
    """
    if weight == 0.0:
        return lambda x, t: denoise(x, t, labels)
    null = torch.full_like(labels, null_label)
    both = torch.cat([labels, null])

    def eps_fn(x: Tensor, t: Tensor) -> Tensor:
        eps_c, eps_u = denoise(torch.cat([x, x]), torch.cat([t, t]), both).chunk(2)
        return classifier_free_mix(eps_c, eps_u, weight)

    return eps_fn


# ---- classifier guidance (Dhariwal & Nichol 2021, ADM-G) ------------------------------------------

GradFn = Callable[[Tensor, Tensor], Tensor]  # (x_t, t) -> ∇_{x_t} log p(y | x_t, t)


def classifier_log_prob_grad(classifier: Callable[[Tensor, Tensor], Tensor], labels: Tensor) -> GradFn:
    """∇_{x_t} log p_φ(y | x_t, t) of a noise-aware classifier (logits = classifier(x_t, t)), per image."""

    def grad_fn(x: Tensor, t: Tensor) -> Tensor:
        with torch.enable_grad():
            x_in = x.detach().float().requires_grad_(True)
            log_probs = torch.log_softmax(classifier(x_in, t).float(), dim=-1)
            selected = log_probs[torch.arange(len(labels), device=x.device), labels]
            return torch.autograd.grad(selected.sum(), x_in)[0]

    return grad_fn


def classifier_guided_eps(eps_fn: EpsFn, grad_fn: GradFn, schedule, *, scale: float) -> EpsFn:
    """ε̂ = ε(x_t) − s·sqrt(1 − ᾱ_t)·∇ log p(y | x_t)   (ADM-G Algorithm 2; the form DDIM uses).

    Since ε ∝ −sqrt(1 − ᾱ_t) ∇ log p(x_t), this is the score of p(x_t) p(y | x_t)^s.
    """
    from genvision.diffusion.schedule import extract

    if scale == 0.0:
        return eps_fn

    def guided(x: Tensor, t: Tensor) -> Tensor:
        sigma = extract(schedule.sqrt_one_minus_alphas_cumprod, t, x.dim())
        return eps_fn(x, t) - scale * sigma * grad_fn(x, t)

    return guided


def classifier_mean_shift(grad_fn: GradFn, *, scale: float) -> TransitionHook:
    """The transition hook of ADM-G Algorithm 1: x_{t-1} ~ N(μ + s Σ ∇log p(y | x_t, t), Σ), the gradient at x_t.

    Σ is the transition's own variance (β̃, β or the model's learned Σ_θ), so one DDPM loop serves guided and
    plain sampling; scale 0 returns the transition unchanged.
    """

    def hook(x: Tensor, t: Tensor, tr: Transition) -> Transition:
        if scale == 0.0:
            return tr
        return tr._replace(mean=tr.mean + scale * tr.variance * grad_fn(x, t))

    return hook


def classifier_guided_ddpm_sample(eps_fn: EpsFn, grad_fn: GradFn, schedule, shape, *, scale: float,
                                  **ddpm_options) -> Tensor:
    """Ancestral sampling with the mean shifted by s·Σ·∇ log p(y | x_t, t)   (ADM-G Algorithm 1):
    :func:`~genvision.diffusion.samplers.ddpm_sample` with :func:`classifier_mean_shift` as its hook.
    With scale 0 it consumes the generator exactly as `ddpm_sample` does and returns the same samples."""
    return ddpm_sample(eps_fn, schedule, shape, transition_hook=classifier_mean_shift(grad_fn, scale=scale),
                       **ddpm_options)
