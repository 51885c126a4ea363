"""The Gumbel-softmax (Concrete) relaxation of a categorical sample, its temperature schedules, and the
categorical KL terms the discrete VAEs need.

A categorical sample z = one_hot(argmax_k (l_k + g_k)), g_k ~ Gumbel(0, 1), has no useful gradient in the
logits l (argmax is piecewise constant). Replacing argmax by a softmax at temperature tau gives a sample
on the simplex that is a differentiable function of l and of parameter-free noise g: the
reparameterisation trick for discrete variables (Jang et al. 2017, Eq. 1-2; Maddison et al. 2017, Def. 1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from genvision.errors import GenvisionError


def sample_gumbel(
    shape: tuple[int, ...] | torch.Size,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Standard Gumbel noise g = -log E, E ~ Exp(1) (the same law as -log(-log U), U ~ U(0, 1)).

    Drawn through an exponential, as torch's own gumbel_softmax does, so no log of 0 can occur.
    """
    e = torch.empty(shape, device=device, dtype=dtype).exponential_(generator=generator)
    return -e.log()


def gumbel_softmax(
    logits: Tensor,
    *,
    tau: float | Tensor,
    hard: bool = False,
    dim: int = -1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """A relaxed one-hot sample y = softmax((logits + g) / tau) along `dim` (Eq. 1, Jang et al. 2017).

    logits: (..., K, ...) unnormalised log-probabilities; tau > 0. Returns the shape of logits, each slice
    along `dim` on the simplex. As tau -> 0 the samples become one-hot with P(argmax = k) = softmax(logits)_k
    (the Gumbel-max trick holds at every tau: argmax y = argmax (logits + g)).

    hard=True is the straight-through estimator (Sec. 2.2, Jang et al. 2017): the forward value is the
    exact one-hot of argmax y, the backward pass uses the gradient of the soft y.
    """
    if float(tau) <= 0:
        raise GenvisionError(f"gumbel_softmax: tau must be > 0, got {float(tau)}")
    g = sample_gumbel(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    y = torch.softmax((logits + g) / tau, dim=dim)
    if not hard:
        return y
    y_hard = torch.zeros_like(y).scatter_(dim, y.argmax(dim=dim, keepdim=True), 1.0)
    # y - y.detach() is exactly 0 in the forward pass (so the value is exactly one-hot) and has the
    # identity Jacobian in the backward pass (so the gradient is that of the soft sample).
    return y_hard + (y - y.detach())


# ---- temperature schedules --------------------------------------------------------------------------
def tau_exponential(step: int, *, tau0: float = 1.0, rate: float = 1e-4, tau_min: float = 0.5) -> float:
    """tau = max(tau_min, tau0 * exp(-rate * step)) (Sec. 4.1, Jang et al. 2017: r in {1e-5, 1e-4})."""
    return max(tau_min, tau0 * math.exp(-rate * max(step, 0)))


def tau_cosine(step: int, *, total: int, tau0: float = 1.0, tau_min: float = 1.0 / 16) -> float:
    """Half-cosine from tau0 at step 0 to tau_min at step `total`, then constant.

    DALL-E's dVAE anneals the relaxation temperature from 1 to 1/16 (Sec. 2.1 and App. A.2, Ramesh et al.
    2021). total <= 0 means no annealing: tau_min from the start.
    """
    if total <= 0:
        return tau_min
    frac = min(max(step, 0), total) / total
    return tau_min + (tau0 - tau_min) * 0.5 * (1.0 + math.cos(math.pi * frac))


def cosine_warmup(step: int, *, total: int, final: float) -> float:
    """0 at step 0 rising as a half-cosine to `final` at `total`, then constant (DALL-E's KL-weight
    warm-up, App. A.2, Ramesh et al. 2021). total <= 0: `final` from the start."""
    if total <= 0:
        return final
    frac = min(max(step, 0), total) / total
    return final * 0.5 * (1.0 - math.cos(math.pi * frac))


def temperature(schedule: str, step: int, *, tau0: float, tau_min: float, rate: float, total: int) -> float:
    """The temperature of a named schedule ("exponential" or "cosine") at `step`."""
    if schedule == "exponential":
        return tau_exponential(step, tau0=tau0, rate=rate, tau_min=tau_min)
    if schedule == "cosine":
        return tau_cosine(step, total=total, tau0=tau0, tau_min=tau_min)
    raise GenvisionError(f"unknown temperature schedule {schedule!r}; expected 'exponential' or 'cosine'")


# ---- categorical KL ---------------------------------------------------------------------------------
def _finite_log_softmax(logits: Tensor, dim: int) -> Tensor:
    # A category of probability 0 (logit -inf) contributes 0 * log 0 = 0, not 0 * -inf = nan.
    return F.log_softmax(logits, dim=dim).clamp(min=torch.finfo(logits.dtype).min)


def kl_categorical(q_logits: Tensor, p_logits: Tensor, *, dim: int = -1) -> Tensor:
    """KL(q || p) = sum_k q_k (log q_k - log p_k) in nats, summed over `dim` (which is removed).

    q_logits, p_logits: unnormalised log-probabilities that broadcast against each other.
    """
    log_q = _finite_log_softmax(q_logits, dim)
    log_p = F.log_softmax(p_logits, dim=dim)
    return (log_q.exp() * (log_q - log_p)).sum(dim)


def kl_categorical_uniform(logits: Tensor, *, dim: int = -1) -> Tensor:
    """KL(q || Uniform(K)) = sum_k q_k log q_k + log K in nats per categorical variable (`dim` removed).

    0 for uniform logits, log K for a one-hot q (the prior term of Jang et al. 2017 and of DALL-E's dVAE).
    """
    log_q = _finite_log_softmax(logits, dim)
    return (log_q.exp() * log_q).sum(dim) + math.log(logits.shape[dim])
