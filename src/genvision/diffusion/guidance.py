"""Guidance as eps-function wrappers: classifier-free (Ho & Salimans 2022) and classifier (Dhariwal & Nichol 2021).

Three conventions for the classifier-free weight are in use; they are converted here and nowhere else:

| option              | formula                            | plain conditional | unconditional |
|---------------------|------------------------------------|-------------------|---------------|
| guidance_weight w   | (1 + w) eps_c - w eps_u  (CFG Eq. 6) | w = 0             | w = -1        |
| guidance_scale s    | eps_u + s (eps_c - eps_u) (diffusers) | s = 1             | s = 0         |
| guidance_lambda lam | lam eps_c + (1 - lam) eps_u (lecture) | lam = 1           | lam = 0       |

so s = 1 + w and lam = 1 + w.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from genvision.errors import GenvisionError
from genvision.nn.classifier_free import classifier_free_mix

EpsFn = Callable[[Tensor, Tensor], Tensor]
Denoiser = Callable[[Tensor, Tensor, Tensor | None], Tensor]  # (x_t, t, labels or None) -> eps


def guidance_weight(*, weight: float | None = None, scale: float | None = None,
                    lam: float | None = None) -> float:
    """The paper's w from exactly one of the three conventions (none given -> w = 0, no guidance)."""
    given = [(n, v) for n, v in (("guidance_weight", weight), ("guidance_scale", scale),
                                 ("guidance_lambda", lam)) if v is not None]
    if len(given) > 1:
        raise GenvisionError("give only one of " + ", ".join(f"--{n.replace('_', '-')}" for n, _ in given))
    if not given:
        return 0.0
    name, value = given[0]
    if name == "guidance_lambda" and not 0.0 <= value <= 1.0:
        raise GenvisionError(f"--guidance-lambda must be in [0, 1], got {value}")
    return value if name == "guidance_weight" else value - 1.0


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


@torch.no_grad()
def classifier_guided_ddpm_sample(eps_fn: EpsFn, grad_fn: GradFn, schedule, shape, *, scale: float,
                                  variance: str = "beta_tilde", clip_x0: bool = True,
                                  generator: torch.Generator | None = None, x_T: Tensor | None = None,
                                  device=None, progress: bool = False, callback=None) -> Tensor:
    """Ancestral sampling with the mean shifted by s·Σ·∇ log p(y | x_t, t)   (ADM-G Algorithm 1).

    x_{t-1} ~ N(μ + s Σ g, Σ), g evaluated at x_t. With scale 0 it consumes the generator exactly as
    `ddpm_sample` does and returns the same samples.
    """
    from tqdm import tqdm

    from genvision.diffusion.samplers import _initial_noise, ddpm_transition, sample_transition

    x = _initial_noise(schedule, shape, x_T, generator, device)
    for i, t in enumerate(tqdm(range(schedule.num_timesteps - 1, -1, -1), disable=not progress, desc="ddpm+cg")):
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        tr = ddpm_transition(schedule, x, t, eps_fn(x, tt), variance=variance, clip_x0=clip_x0)
        if callback is not None:
            callback(i, t, x, tr.x0_pred)
        if scale != 0.0:
            tr = tr._replace(mean=tr.mean + scale * tr.variance * grad_fn(x, tt))
        x = sample_transition(tr, t, generator=generator)
    return x
