"""Samplers as plain functions over an ε-function: ancestral DDPM and DDIM.

``eps_fn(x_t: (B, C, H, W), t: (B,) int64) -> ε: (B, C, H, W)`` is all a sampler knows of the model;
the network, its parameterisation (see parameterization.py) and any guidance are wrapped into it
elsewhere. Each sampler has a one-step function that takes ε already computed, so guidance code can
change ε or the mean and still reuse the update.

All randomness comes from ``generator``: x_T first (unless given), then one N(0, I) draw per step
that adds noise (none at the last step), so equal seeds give equal samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from tqdm import tqdm

from genvision.diffusion.losses import learned_range_log_variance
from genvision.diffusion.schedule import NoiseSchedule, extract
from genvision.diffusion.timesteps import DEFAULT_SPACING, check_descending, respace, spaced_timesteps
from genvision.errors import GenvisionError

EpsFn = Callable[[Tensor, Tensor], Tensor]
LogVarianceFn = Callable[[Tensor, Tensor], Tensor]
# (x_t, t) -> v_raw in [-1, 1]: a learned variance as the fraction between log β̃ and log β of the chain
# being sampled (Eq. 15, Nichol & Dhariwal 2021), so a respaced chain interpolates between its own betas.
LearnedRangeFn = Callable[[Tensor, Tensor], Tensor]
# callback(i, t, x_t, x0_pred): step index i from 0, timestep t, the state fed to the model at t and
# the x_0 predicted from it (clipped when clip_x0), both (B, C, H, W).
Callback = Callable[[int, int, Tensor, Tensor], None]

VARIANCES = ("beta_tilde", "beta")


class Transition(NamedTuple):
    """p_θ(x_{t-1} | x_t) = N(mean, variance) and the predicted x_0. variance broadcasts to mean."""

    mean: Tensor
    variance: Tensor
    log_variance: Tensor
    x0_pred: Tensor


# transition_hook(x_t, t: (B,) int64, p(x_{t-1} | x_t)) -> the transition to sample from instead
TransitionHook = Callable[[Tensor, Tensor, Transition], Transition]


class Step(NamedTuple):
    """One reverse step: x_prev = x_{t-1} (or the final x_0), x0_pred = the x_0 it was built from."""

    x_prev: Tensor
    x0_pred: Tensor


def standard_normal(
    shape: Sequence[int],
    *,
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """N(0, I) of ``shape`` drawn on the generator's device, then moved to ``device``.

    A CPU generator thus drives sampling on any device and gives the same numbers everywhere.
    """
    source = generator.device if generator is not None else device
    return torch.randn(tuple(shape), generator=generator, device=source, dtype=dtype).to(device)


def _timesteps(t: int, x: Tensor) -> Tensor:
    return torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)


def _predict_x0(schedule: NoiseSchedule, x_t: Tensor, tt: Tensor, eps: Tensor, clip_x0: bool) -> Tensor:
    x0 = schedule.predict_x0_from_eps(x_t, tt, eps)  # Eq. 15, Ho et al. 2020
    return x0.clamp(-1.0, 1.0) if clip_x0 else x0


# ---- DDPM --------------------------------------------------------------------------------------


def ddpm_transition(
    schedule: NoiseSchedule,
    x_t: Tensor,
    t: int,
    eps: Tensor,
    *,
    variance: str = "beta_tilde",
    log_variance: Tensor | None = None,
    clip_x0: bool = True,
) -> Transition:
    """The Gaussian p_θ(x_{t-1} | x_t) of ancestral sampling, in the x_0-clipping form.

    x̂_0 from ε (Eq. 15), clipped to [-1, 1] if ``clip_x0``; mean = μ̃_t(x_t, x̂_0) (Eq. 7); without
    clipping this equals Eq. 11, (x_t - β_t / sqrt(1 - ᾱ_t) ε) / sqrt(α_t).
    variance: σ_t^2 = β̃_t ("beta_tilde") or β_t ("beta") (Sec. 3.2); a ``log_variance``
    (B, C, H, W), e.g. from :func:`~genvision.diffusion.losses.learned_range_log_variance`, overrides it.
    """
    if variance not in VARIANCES:
        raise GenvisionError(f"unknown DDPM variance {variance!r}; expected one of {VARIANCES}")
    tt = _timesteps(t, x_t)
    x0 = _predict_x0(schedule, x_t, tt, eps, clip_x0)
    mean = schedule.q_posterior(x0, x_t, tt).mean
    if log_variance is None:
        beta_tilde = variance == "beta_tilde"
        log_values = schedule.posterior_log_variance_clipped if beta_tilde else torch.log(schedule.betas)
        log_variance = extract(log_values, tt, x_t.dim())
    return Transition(mean, log_variance.exp(), log_variance, x0)


def sample_transition(transition: Transition, t: int, *, generator: torch.Generator | None = None) -> Tensor:
    """x_{t-1} = mean + σ_t z, z ~ N(0, I) (Algorithm 2, line 4); no noise (and no draw) at t == 0."""
    mean = transition.mean
    if t == 0:
        return mean
    z = standard_normal(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * transition.log_variance) * z


def ddpm_step(
    schedule: NoiseSchedule,
    x_t: Tensor,
    t: int,
    eps: Tensor,
    *,
    variance: str = "beta_tilde",
    log_variance: Tensor | None = None,
    clip_x0: bool = True,
    generator: torch.Generator | None = None,
) -> Step:
    """One step of ancestral sampling: :func:`ddpm_transition` then :func:`sample_transition`."""
    tr = ddpm_transition(schedule, x_t, t, eps, variance=variance, log_variance=log_variance, clip_x0=clip_x0)
    return Step(sample_transition(tr, t, generator=generator), tr.x0_pred)


def _initial_noise(
    schedule: NoiseSchedule,
    shape: Sequence[int],
    x_T: Tensor | None,
    generator: torch.Generator | None,
    device: torch.device | str | None,
) -> Tensor:
    if x_T is not None:
        if tuple(x_T.shape) != tuple(shape):
            raise GenvisionError(f"x_T has shape {tuple(x_T.shape)}, expected {tuple(shape)}")
        return x_T.clone()
    device = schedule.betas.device if device is None else device
    return standard_normal(shape, generator=generator, device=device)


def _sampling_timesteps(T: int, steps: int | None, spacing: str, timesteps: Sequence[int] | None,
                        default_steps: int) -> list[int]:
    if timesteps is not None:
        if steps is not None:
            raise GenvisionError("give either steps (with a spacing) or explicit timesteps, not both")
        return check_descending(timesteps, T)
    return spaced_timesteps(T, default_steps if steps is None else steps, spacing)


@torch.no_grad()
def ddpm_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    shape: Sequence[int],
    *,
    steps: int | None = None,
    spacing: str = DEFAULT_SPACING,
    timesteps: Sequence[int] | None = None,
    variance: str = "beta_tilde",
    clip_x0: bool = True,
    generator: torch.Generator | None = None,
    x_T: Tensor | None = None,
    progress: bool = False,
    callback: Callback | None = None,
    device: torch.device | str | None = None,
    log_variance_fn: LogVarianceFn | None = None,
    learned_range_fn: LearnedRangeFn | None = None,
    transition_hook: TransitionHook | None = None,
) -> Tensor:
    """Ancestral sampling (Algorithm 2, Ho et al. 2020), over all T steps or a respaced chain. Returns x_0.

    shape: (B, C, H, W); x_T: optional starting noise of that shape (else drawn from ``generator``).
    steps (placed by ``spacing``, see :mod:`~genvision.diffusion.timesteps`) or explicit descending
    ``timesteps``: sample the respaced chain on them (Nichol & Dhariwal 2021, Sec. 4); default all T.
    The model (eps_fn, hooks, callback) always sees the original timestep; the chain's betas are respaced.
    learned_range_fn(x_t, t) -> v_raw (B, C, H, W): a learned variance, interpolated between the chain's own
    log β̃ and log β; log_variance_fn(x_t, t) -> log σ_t^2: a learned variance of the full chain only.
    Both replace ``variance``.
    transition_hook(x_t, t, transition) -> transition: changes p(x_{t-1} | x_t) before it is sampled, e.g.
    classifier guidance shifts its mean (ADM-G Algorithm 1); it sees the learned variance when there is one.
    Runs under no_grad; guidance that needs gradients enables them inside eps_fn or the hook.
    """
    T = schedule.num_timesteps
    ts = _sampling_timesteps(T, steps, spacing, timesteps, T)
    chain = respace(schedule, ts)
    if chain is not schedule and log_variance_fn is not None:
        raise GenvisionError("a respaced DDPM chain needs learned_range_fn, not log_variance_fn: the learned "
                             "variance is re-interpolated between the respaced betas")
    x = _initial_noise(schedule, shape, x_T, generator, device)
    for i, t in enumerate(tqdm(ts, disable=not progress, desc="ddpm")):
        k = len(ts) - 1 - i  # the step's index in the (respaced) chain; k == t over all T steps
        tt, kk = _timesteps(t, x), _timesteps(k, x)
        log_var = None
        if learned_range_fn is not None:
            log_var = learned_range_log_variance(chain, kk, learned_range_fn(x, tt))
        elif log_variance_fn is not None:
            log_var = log_variance_fn(x, tt)
        tr = ddpm_transition(chain, x, k, eps_fn(x, tt), variance=variance, log_variance=log_var, clip_x0=clip_x0)
        if callback is not None:
            callback(i, t, x, tr.x0_pred)
        if transition_hook is not None:
            tr = transition_hook(x, tt, tr)
        x = sample_transition(tr, k, generator=generator)
    return x


# ---- DDIM --------------------------------------------------------------------------------------


def ddim_step(
    schedule: NoiseSchedule,
    x_t: Tensor,
    t: int,
    t_prev: int,
    eps: Tensor,
    *,
    eta: float = 0.0,
    clip_x0: bool = True,
    generator: torch.Generator | None = None,
) -> Step:
    """One generalised step from timestep t to t_prev < t (t_prev = -1 means x_0, with ᾱ = 1).

    Eq. 12, Song et al. 2021:
      x_prev = sqrt(ᾱ_prev) x̂_0 + sqrt(1 - ᾱ_prev - σ_t^2) ε + σ_t z,
    Eq. 16: σ_t(η) = η sqrt((1 - ᾱ_prev) / (1 - ᾱ_t)) sqrt(1 - ᾱ_t / ᾱ_prev).
    η = 0 is deterministic; η = 1 with t_prev = t - 1 is DDPM with σ_t^2 = β̃_t. When ``clip_x0``,
    ε is recomputed from the clipped x̂_0 so that (x̂_0, ε) still reproduce x_t.
    """
    if not -1 <= t_prev < t:
        raise GenvisionError(f"DDIM step needs -1 <= t_prev < t, got t={t}, t_prev={t_prev}")
    tt = _timesteps(t, x_t)
    x0 = _predict_x0(schedule, x_t, tt, eps, clip_x0)
    if clip_x0:
        eps = schedule.predict_eps_from_x0(x_t, tt, x0)
    abar = schedule.alphas_cumprod[t]
    abar_prev = schedule.alphas_cumprod[t_prev] if t_prev >= 0 else torch.ones_like(abar)
    sigma = eta * torch.sqrt((1 - abar_prev) / (1 - abar)) * torch.sqrt(1 - abar / abar_prev)  # Eq. 16
    # Eq. 12: "predicted x_0" + "direction pointing to x_t" + random noise.
    x_prev = abar_prev.sqrt() * x0 + torch.sqrt((1 - abar_prev - sigma**2).clamp(min=0.0)) * eps
    if eta > 0 and t_prev >= 0:
        z = standard_normal(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype)
        x_prev = x_prev + sigma * z
    return Step(x_prev, x0)


@torch.no_grad()
def ddim_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    shape: Sequence[int],
    *,
    steps: int | None = None,
    spacing: str = DEFAULT_SPACING,
    eta: float = 0.0,
    timesteps: Sequence[int] | None = None,
    clip_x0: bool = True,
    generator: torch.Generator | None = None,
    x_T: Tensor | None = None,
    progress: bool = False,
    callback: Callback | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """DDIM sampling (Song et al. 2021) over ``spaced_timesteps(T, steps, spacing)`` (steps default 50)
    or explicit ``timesteps`` (strictly descending, any subset of 0..T-1); the walk ends at x_0 after the
    last one. Returns x_0: ``shape``. Runs under no_grad.
    """
    T = schedule.num_timesteps
    ts = _sampling_timesteps(T, steps, spacing, timesteps, min(50, T))
    x = _initial_noise(schedule, shape, x_T, generator, device)
    for i, t in enumerate(tqdm(ts, disable=not progress, desc="ddim")):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        step = ddim_step(
            schedule, x, t, t_prev, eps_fn(x, _timesteps(t, x)), eta=eta, clip_x0=clip_x0, generator=generator
        )
        if callback is not None:
            callback(i, t, x, step.x0_pred)
        x = step.x_prev
    return x
