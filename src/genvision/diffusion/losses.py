"""Training losses of DDPM: L_simple, the variational-bound terms L_t, and the hybrid of the two.

Per-example losses are returned as (B,) so the caller chooses how to weight and average them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from genvision.diffusion.parameterization import PREDICTIONS, model_output_to_eps_x0, training_target
from genvision.diffusion.schedule import NoiseSchedule, extract
from genvision.errors import GenvisionError


def _mean_flat(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1).mean(dim=1)


def _sum_flat(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1).sum(dim=1)


def simple_loss(model_output: Tensor, target: Tensor) -> Tensor:
    """L_simple (Eq. 14, Ho et al. 2020): ||target - output||^2 averaged over non-batch dims.

    model_output, target: (B, ...); returns (B,).
    """
    if model_output.shape != target.shape:
        raise GenvisionError(
            f"model output shape {tuple(model_output.shape)} != target shape {tuple(target.shape)}"
        )
    return _mean_flat((model_output - target) ** 2)


LOSS_WEIGHTINGS = ("none", "min_snr")


TIMESTEP_SAMPLINGS = ("uniform", "logit_normal")


def sample_training_timesteps(num_timesteps: int, batch: int, *, scheme: str = "uniform", logit_mean: float = 0.0,
                              logit_std: float = 1.0, uniform_fraction: float = 0.0,
                              device: torch.device | str = "cpu",
                              generator: torch.Generator | None = None) -> Tensor:
    """Training timesteps t in 0..T-1 (larger t: noisier), (batch,) int64.

    uniform: t ~ U{0..T-1}, L_simple as Ho et al. 2020 (Eq. 14). logit_normal: u = sigmoid(m + s n), n ~ N(0, 1),
    t = floor(u T) -- the logit-normal density of Esser et al. 2024 (Sec. 3.1, "Logit-Normal Sampling"; diffusers'
    ``weighting_scheme="logit_normal"``), whose median is t/T = sigmoid(m): it reweights L_simple in expectation,
    m > 0 trains the noisier steps more, s sets the spread. uniform_fraction p (logit_normal only) draws each t
    from the mixture p U{0..T-1} + (1 - p) logit-normal: the nearly clean steps, which the logit-normal density
    all but skips for m > 0, keep at least p times the uniform density (docs/diffusion.md, 7c).
    """
    if scheme not in TIMESTEP_SAMPLINGS:
        raise GenvisionError(f"timestep_sampling must be one of {TIMESTEP_SAMPLINGS}, got {scheme!r}")
    if scheme == "uniform":
        return torch.randint(0, num_timesteps, (batch,), device=device, generator=generator)
    if not logit_std > 0:
        raise GenvisionError(f"logit_std must be > 0, got {logit_std}")
    if not 0.0 <= uniform_fraction <= 1.0:
        raise GenvisionError(f"uniform_fraction must be in [0, 1], got {uniform_fraction}")
    n = torch.randn(batch, device=device, generator=generator)
    u = torch.sigmoid(logit_mean + logit_std * n)
    if uniform_fraction > 0:  # the mixture: each draw is uniform with probability p
        pick = torch.rand(batch, device=device, generator=generator) < uniform_fraction
        u = torch.where(pick, torch.rand(batch, device=device, generator=generator), u)
    return (u * num_timesteps).long().clamp(0, num_timesteps - 1)


def min_snr_weight(schedule: NoiseSchedule, t: Tensor, *, prediction: str, gamma: float) -> Tensor:
    """Min-SNR-γ weight of L_simple per example (Hang et al. 2023), for the target the model predicts.

    The weight on the x_0-error is min(SNR(t), γ), SNR(t) = ᾱ_t / (1 - ᾱ_t): the easy, low-noise steps no
    longer dominate the gradient. The ε- and v-errors are the x_0-error times SNR and SNR + 1, so the same
    weighting reads min(SNR, γ) / SNR for ε, min(SNR, γ) for x_0 and min(SNR, γ) / (SNR + 1) for v.
    t: (B,) int64; returns (B,) float32.
    """
    if prediction not in PREDICTIONS:
        raise GenvisionError(f"unknown prediction {prediction!r}; expected one of {PREDICTIONS}")
    if not gamma > 0:
        raise GenvisionError(f"min_snr_gamma must be > 0, got {gamma}")
    # SNR from sqrt(1/ᾱ - 1), which the schedule rounds from float64: 1 - ᾱ in float32 loses the digits at t ~ 0
    recipm1 = schedule.sqrt_recipm1_alphas_cumprod
    snr = recipm1.double().gather(0, t.to(recipm1.device, torch.long)).pow(-2)
    clipped = snr.clamp(max=gamma)
    if prediction == "eps":  # min(SNR, γ) / SNR, written so that SNR -> 0 gives 1, not 0/0
        w = torch.where(snr > gamma, gamma / snr, torch.ones_like(snr))
    elif prediction == "x0":
        w = clipped
    else:
        w = clipped / (snr + 1.0)
    return w.float()


def normal_kl(mean1: Tensor, logvar1: Tensor, mean2: Tensor, logvar2: Tensor) -> Tensor:
    """KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) elementwise, in nats; arguments broadcast."""
    # Closed-form KL of two Gaussians, as used for L_{t-1} in Eq. 5, Ho et al. 2020.
    return 0.5 * (
        -1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2) + (mean1 - mean2) ** 2 * torch.exp(-logvar2)
    )


def learned_range_log_variance(schedule: NoiseSchedule, t: Tensor, v_raw: Tensor) -> Tensor:
    """log Σ_θ = v log β_t + (1 - v) log β̃_t (Eq. 15, Nichol & Dhariwal 2021), v = (v_raw + 1) / 2.

    t: (B,) int64; v_raw: (B, C, H, W) in [-1, 1] (-1 -> β̃_t clipped, +1 -> β_t); returns (B, C, H, W).
    """
    n = v_raw.dim()
    min_log = extract(schedule.posterior_log_variance_clipped, t, n)
    max_log = extract(torch.log(schedule.betas), t, n)
    frac = (v_raw + 1.0) / 2.0
    return frac * max_log + (1.0 - frac) * min_log


def _log_normal_cdf_difference(lo: Tensor, hi: Tensor) -> Tensor:
    """log(Φ(hi) - Φ(lo)) for lo < hi, accurate in both tails (mirror so that lo + hi <= 0)."""
    flip = (lo + hi) > 0
    lo, hi = torch.where(flip, -hi, lo), torch.where(flip, -lo, hi)
    log_hi = torch.special.log_ndtr(hi)
    return log_hi + torch.log(-torch.expm1(torch.special.log_ndtr(lo) - log_hi))


def _discretized_gaussian_log_likelihood(x: Tensor, *, mean: Tensor, log_variance: Tensor) -> Tensor:
    """log p(x) of a Gaussian integrated over the 256-level bin that holds x (Ho et al. 2020, Eq. 13).

    x: (B, C, H, W) in [-1, 1] on the grid k * 2/255 - 1; mean, log_variance broadcast to x.
    Bins have width 2/255; the first and last reach to -inf / +inf. Returns (B, C, H, W) in nats (<= 0).
    """
    inv_std = torch.exp(-0.5 * log_variance)
    lo = (x - mean - 1.0 / 255.0) * inv_std
    hi = (x - mean + 1.0 / 255.0) * inv_std
    return torch.where(
        x < -0.999,
        torch.special.log_ndtr(hi),  # log Φ(hi): bin (-inf, x + 1/255]
        torch.where(x > 0.999, torch.special.log_ndtr(-lo), _log_normal_cdf_difference(lo, hi)),
    )


def vlb_term(
    schedule: NoiseSchedule,
    x0: Tensor,
    xt: Tensor,
    t: Tensor,
    *,
    pred_mean: Tensor,
    pred_log_variance: Tensor,
) -> Tensor:
    """One term of the variational bound (Eq. 5, Ho et al. 2020), in nats summed over dims.

    t > 0: L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_θ(x_{t-1} | x_t)) (code index t = paper t+1);
    t == 0: L_0 = -log p_θ(x_0 | x_1), the discretised Gaussian decoder.
    x0: (B, C, H, W) in [-1, 1]; xt: (B, C, H, W); t: (B,) int64; pred_mean: (B, C, H, W);
    pred_log_variance: broadcastable to x0. Returns (B,).
    """
    true = schedule.q_posterior(x0, xt, t)
    out = _sum_flat(normal_kl(true.mean, true.log_variance, pred_mean, pred_log_variance).expand_as(x0))
    first = (t == 0).nonzero().squeeze(1)
    if first.numel() > 0:  # the decoder only for the rows that need it (about 1/T of a training batch)
        mean, log_var = pred_mean[first], pred_log_variance.expand_as(x0)[first]
        nll = -_sum_flat(_discretized_gaussian_log_likelihood(x0[first], mean=mean, log_variance=log_var))
        out = out.index_put((first,), nll)
    return out


class HybridLoss(NamedTuple):
    """Per-example (B,) parts of L_hybrid; ``loss`` is the one to optimise (after a mean)."""

    loss: Tensor
    simple: Tensor
    vlb: Tensor


def hybrid_loss(
    schedule: NoiseSchedule,
    x0: Tensor,
    xt: Tensor,
    t: Tensor,
    noise: Tensor,
    *,
    model_output: Tensor,
    v_raw: Tensor,
    prediction: str = "eps",
    lambda_vlb: float = 1e-3,
    simple_weight: Tensor | None = None,
) -> HybridLoss:
    """L_hybrid = L_simple + λ L_vlb (Eq. 16, Nichol & Dhariwal 2021) with a learned variance.

    x0: (B, C, H, W) in [-1, 1]; xt = q_sample(x0, t, noise); t: (B,) int64; model_output: the
    mean-part of the network output (ε, x_0 or v per ``prediction``); v_raw: (B, C, H, W) in [-1, 1],
    the variance-part (see :func:`learned_range_log_variance`).
    The VLB term sees a stop-gradient copy of the mean, so it trains only the variance (Sec. 3.1).
    As in improved-diffusion, L_vlb = T * L_t for the sampled t (an unbiased estimate of the sum),
    measured in bits/dim; ``vlb`` in the result is that single L_t in bits/dim.
    simple_weight: (B,) weights of L_simple in ``loss`` (e.g. :func:`min_snr_weight`); ``simple`` is unweighted.
    """
    simple = simple_loss(model_output, training_target(schedule, x0, noise, t, prediction=prediction))
    x0_pred = model_output_to_eps_x0(schedule, xt, t, model_output.detach(), prediction=prediction).x0
    pred_mean = schedule.q_posterior(x0_pred, xt, t).mean  # μ_θ via Eq. 7 with x̂_0 (unclipped)
    log_var = learned_range_log_variance(schedule, t, v_raw)
    dims = x0[0].numel()
    vlb_nats = vlb_term(schedule, x0, xt, t, pred_mean=pred_mean, pred_log_variance=log_var)
    vlb = vlb_nats / (dims * math.log(2.0))
    weighted = simple if simple_weight is None else simple_weight * simple
    loss = weighted + lambda_vlb * schedule.num_timesteps * vlb
    return HybridLoss(loss, simple, vlb)
