"""The exact variational bound of a diffusion model on given images, in bits/dim (Ho et al. 2020, Eq. 5).

L = L_T + sum_{t>1} L_{t-1} + L_0, each term estimated with one draw of x_t ~ q(x_t | x_0);
bits/dim = nats / (D ln 2) with D = C * H * W.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor
from tqdm import tqdm

from genvision.diffusion.losses import normal_kl, vlb_term
from genvision.diffusion.samplers import standard_normal
from genvision.diffusion.schedule import NoiseSchedule, extract
from genvision.errors import GenvisionError

EpsFn = Callable[[Tensor, Tensor], Tensor]  # (x_t, t) -> ε; also the shape of log_variance_fn


class VLB(NamedTuple):
    """The variational bound in bits/dim, per example.

    total_bpd: (B,) = prior_bpd + terms_bpd.sum(1);
    prior_bpd: (B,) the paper's L_T = KL(q(x_T | x_0) || N(0, I));
    terms_bpd: (B, T), column t is the paper's L_t: column 0 the decoder L_0 = -log p_θ(x_0 | x_1), column
    t >= 1 L_t = KL(q(x_t | x_{t+1}, x_0) || p_θ(x_t | x_{t+1})) (paper indices; it is the term at code
    timestep t); decoder_bpd: (B,) = terms_bpd[:, 0].
    """

    total_bpd: Tensor
    prior_bpd: Tensor
    terms_bpd: Tensor
    decoder_bpd: Tensor


def prior_bpd(schedule: NoiseSchedule, x0: Tensor) -> Tensor:
    """L_T = KL(q(x_T | x_0) || N(0, I)) in bits/dim; x0: (B, C, H, W) in [-1, 1]; returns (B,)."""
    t = torch.full((x0.shape[0],), schedule.num_timesteps - 1, dtype=torch.long, device=x0.device)
    q = schedule.q_mean_variance(x0, t)
    kl = normal_kl(q.mean, q.log_variance, torch.zeros_like(x0), torch.zeros_like(x0))
    return kl.reshape(x0.shape[0], -1).mean(dim=1) / math.log(2.0)


@torch.no_grad()
def variational_bound(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    x0: Tensor,
    *,
    log_variance_fn: EpsFn | None = None,
    clip_x0: bool = False,
    timesteps_per_call: int = 1,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> VLB:
    """Every term of the bound (Eq. 5, Ho et al. 2020) for the model p_θ defined by ``eps_fn``.

    eps_fn(x_t, t) -> ε: the model (any parameterisation, wrapped to ε). x0: (B, C, H, W) in [-1, 1],
    on the 256-level grid for the decoder term to be a likelihood of 8-bit data.
    The reverse mean is μ̃_t(x_t, x̂_0) (Eq. 7) with x̂_0 from ε (clipped to [-1, 1] if ``clip_x0``);
    the variance is β̃_t (clipped log as in the DDPM code), or ``log_variance_fn(x_t, t)`` if given.
    ``timesteps_per_call`` timesteps are stacked into one eps_fn call of batch k * B.
    One N(0, I) draw per (t, example) comes from ``generator``.
    """
    if timesteps_per_call < 1:
        raise GenvisionError(f"timesteps_per_call must be >= 1, got {timesteps_per_call}")
    B, T, D = x0.shape[0], schedule.num_timesteps, x0[0].numel()
    terms = torch.zeros(B, T, dtype=x0.dtype, device=x0.device)
    chunks = [list(range(s, min(s + timesteps_per_call, T))) for s in range(0, T, timesteps_per_call)]
    for chunk in tqdm(chunks, disable=not progress, desc="vlb"):
        k = len(chunk)
        t = torch.tensor(chunk, dtype=torch.long, device=x0.device).repeat_interleave(B)
        x0k = x0.repeat(k, *([1] * (x0.dim() - 1)))
        noise = standard_normal(x0k.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        xt = schedule.q_sample(x0k, t, noise)  # Eq. 4
        x0_pred = schedule.predict_x0_from_eps(xt, t, eps_fn(xt, t))
        if clip_x0:
            x0_pred = x0_pred.clamp(-1.0, 1.0)
        mean = schedule.q_posterior(x0_pred, xt, t).mean
        if log_variance_fn is None:
            log_var = extract(schedule.posterior_log_variance_clipped, t, xt.dim())
        else:
            log_var = log_variance_fn(xt, t)
        nats = vlb_term(schedule, x0k, xt, t, pred_mean=mean, pred_log_variance=log_var)
        terms[:, chunk] = (nats / (D * math.log(2.0))).reshape(k, B).T
    prior = prior_bpd(schedule, x0)
    return VLB(prior + terms.sum(dim=1), prior, terms, terms[:, 0])
