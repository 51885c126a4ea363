"""The DDPM noise schedule: per-timestep constants and the closed forms of the forward process.

Timesteps are 0-indexed in code: code index ``t`` in ``0..T-1`` is the paper's ``t + 1`` in ``1..T``
(Ho et al. 2020). So ``alphas_cumprod[t]`` is the paper's ᾱ_{t+1}, and ``alphas_cumprod_prev[0] = 1``
stands for ᾱ_0 = 1 (no noise). Everything is built in float64 and stored as float32 buffers, so
``schedule.to(device)`` moves it and ``schedule.double()`` gives a float64 copy for exact tests.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from genvision.errors import GenvisionError


class Gaussian(NamedTuple):
    """A diagonal Gaussian. mean: like x; variance, log_variance: broadcastable to x, e.g. (B, 1, 1, 1)."""

    mean: Tensor
    variance: Tensor
    log_variance: Tensor


# q(x_{t-1} | x_t, x_0) is a Gaussian; the name says which one.
Posterior = Gaussian


def extract(values: Tensor, t: Tensor, ndim: int) -> Tensor:
    """Pick one value per example and shape it to broadcast against a (B, ...) tensor of ``ndim`` dims.

    values: (T,) per-timestep constants; t: (B,) int64 in [0, T); returns (B, 1, ..., 1) with ``ndim`` dims.
    """
    if t.dim() != 1:
        raise GenvisionError(f"timesteps must have shape (B,), got {tuple(t.shape)}")
    return values.gather(0, t.to(values.device, torch.long)).reshape(t.shape[0], *([1] * (ndim - 1)))


def _linear_betas(T: int) -> np.ndarray:
    # Ho et al. 2020 use beta 1e-4..0.02 at T=1000; improved-DDPM rescales so other T keep the same
    # total amount of noise (Nichol & Dhariwal 2021, get_named_beta_schedule).
    scale = 1000.0 / T
    beta_start, beta_end = scale * 1e-4, scale * 0.02
    if beta_end >= 1.0:
        raise GenvisionError(
            f"linear schedule with T={T}: rescaled beta_end={beta_end:.3g} >= 1; use T > 20 or 'cosine'"
        )
    return np.linspace(beta_start, beta_end, T, dtype=np.float64)


def _cosine_betas(T: int, s: float) -> np.ndarray:
    # Eq. 17, Nichol & Dhariwal 2021: ᾱ(t) = f(t)/f(0), f(t) = cos^2(((t/T) + s)/(1 + s) * pi/2);
    # beta_t = 1 - ᾱ(t+1)/ᾱ(t), clipped at 0.999 to avoid the singularity at t = T.
    steps = np.arange(T + 1, dtype=np.float64) / T
    f = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    return np.minimum(1.0 - f[1:] / f[:-1], 0.999)


class NoiseSchedule(nn.Module):
    """Per-timestep constants of a variance-preserving diffusion with T steps.

    betas: (T,) in (0, 1]. All buffers are (T,) of ``dtype`` (float32 unless asked), indexed by code
    timestep t in [0, T). They are computed in float64 first; ``dtype=torch.float64`` keeps that precision
    (``.double()`` on a float32 schedule only widens the rounded values).
    """

    betas: Tensor
    alphas: Tensor
    alphas_cumprod: Tensor
    alphas_cumprod_prev: Tensor
    sqrt_alphas_cumprod: Tensor
    one_minus_alphas_cumprod: Tensor
    sqrt_one_minus_alphas_cumprod: Tensor
    log_one_minus_alphas_cumprod: Tensor
    sqrt_recip_alphas_cumprod: Tensor
    sqrt_recipm1_alphas_cumprod: Tensor
    posterior_variance: Tensor
    posterior_log_variance_clipped: Tensor
    posterior_mean_coef1: Tensor
    posterior_mean_coef2: Tensor

    def __init__(self, betas: Tensor | np.ndarray, *, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        b = np.asarray(betas.detach().cpu().numpy() if isinstance(betas, Tensor) else betas, np.float64)
        if b.ndim != 1 or b.size < 2 or not np.all((b > 0) & (b <= 1)):
            raise GenvisionError(f"betas must be a 1-D array of >= 2 values in (0, 1], got shape {b.shape}")
        alphas = 1.0 - b
        ac = np.cumprod(alphas)  # ᾱ_t = prod_{s<=t} α_s (Ho et al. 2020, below Eq. 4)
        ac_prev = np.append(1.0, ac[:-1])
        # Eq. 7, Ho et al. 2020: β̃_t = (1 - ᾱ_{t-1}) / (1 - ᾱ_t) β_t and the two coefficients of μ̃_t.
        post_var = b * (1.0 - ac_prev) / (1.0 - ac)
        consts = {
            "betas": b,
            "alphas": alphas,
            "alphas_cumprod": ac,
            "alphas_cumprod_prev": ac_prev,
            "sqrt_alphas_cumprod": np.sqrt(ac),
            "one_minus_alphas_cumprod": 1.0 - ac,
            "sqrt_one_minus_alphas_cumprod": np.sqrt(1.0 - ac),
            "log_one_minus_alphas_cumprod": np.log(1.0 - ac),
            "sqrt_recip_alphas_cumprod": np.sqrt(1.0 / ac),
            "sqrt_recipm1_alphas_cumprod": np.sqrt(1.0 / ac - 1.0),
            "posterior_variance": post_var,
            # β̃_0 = 0 (x_0 is known given x_1), so its log is replaced by log β̃_1, as the DDPM code does.
            "posterior_log_variance_clipped": np.log(np.append(post_var[1], post_var[1:])),
            "posterior_mean_coef1": b * np.sqrt(ac_prev) / (1.0 - ac),
            "posterior_mean_coef2": (1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
        }
        for name, value in consts.items():
            self.register_buffer(name, torch.from_numpy(value).to(dtype))

    # ---- constructors -------------------------------------------------------------------------

    @classmethod
    def linear(cls, T: int = 1000, *, dtype: torch.dtype = torch.float32) -> NoiseSchedule:
        """Linear betas 1e-4..0.02 at T=1000 (Ho et al. 2020), rescaled by 1000/T for other T (T > 20)."""
        return cls(_linear_betas(T), dtype=dtype)

    @classmethod
    def cosine(cls, T: int = 1000, s: float = 0.008, *, dtype: torch.dtype = torch.float32) -> NoiseSchedule:
        """Cosine ᾱ (Nichol & Dhariwal 2021, Eq. 17), betas clipped at 0.999."""
        return cls(_cosine_betas(T, s), dtype=dtype)

    @classmethod
    def from_name(cls, name: str, T: int = 1000, *, dtype: torch.dtype = torch.float32) -> NoiseSchedule:
        """'linear' or 'cosine'."""
        if name == "linear":
            return cls.linear(T, dtype=dtype)
        if name == "cosine":
            return cls.cosine(T, dtype=dtype)
        raise GenvisionError(f"unknown noise schedule {name!r}; expected 'linear' or 'cosine'")

    @property
    def num_timesteps(self) -> int:
        return self.betas.shape[0]

    # ---- forward process ----------------------------------------------------------------------

    def q_mean_variance(self, x0: Tensor, t: Tensor) -> Gaussian:
        """q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 - ᾱ_t) I) (Eq. 4, Ho et al. 2020).

        x0: (B, ...); t: (B,) int64. variance, log_variance: (B, 1, ..., 1).
        """
        n = x0.dim()
        return Gaussian(
            extract(self.sqrt_alphas_cumprod, t, n) * x0,
            extract(self.one_minus_alphas_cumprod, t, n),
            extract(self.log_one_minus_alphas_cumprod, t, n),
        )

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε, ε = noise ~ N(0, I) (Eq. 4 reparameterised).

        x0, noise: (B, ...); t: (B,) int64; returns (B, ...).
        """
        n = x0.dim()
        a, b = extract(self.sqrt_alphas_cumprod, t, n), extract(self.sqrt_one_minus_alphas_cumprod, t, n)
        return a * x0 + b * noise

    def q_posterior(self, x0: Tensor, xt: Tensor, t: Tensor) -> Posterior:
        """q(x_{t-1} | x_t, x_0) = N(μ̃_t(x_t, x_0), β̃_t I) (Eq. 6-7, Ho et al. 2020).

        x0, xt: (B, ...); t: (B,) int64. variance is β̃_t (0 at t=0); log_variance is the clipped log β̃.
        """
        n = xt.dim()
        mean = extract(self.posterior_mean_coef1, t, n) * x0 + extract(self.posterior_mean_coef2, t, n) * xt
        return Posterior(
            mean,
            extract(self.posterior_variance, t, n),
            extract(self.posterior_log_variance_clipped, t, n),
        )

    # ---- conversions between ε, x_0 and v ----------------------------------------------------

    def predict_x0_from_eps(self, xt: Tensor, t: Tensor, eps: Tensor) -> Tensor:
        """x_0 = (x_t - sqrt(1 - ᾱ_t) ε) / sqrt(ᾱ_t): Eq. 4 solved for x_0 (Ho et al. 2020, Eq. 15)."""
        n = xt.dim()
        c1 = extract(self.sqrt_recip_alphas_cumprod, t, n)
        c2 = extract(self.sqrt_recipm1_alphas_cumprod, t, n)
        return c1 * xt - c2 * eps

    def predict_eps_from_x0(self, xt: Tensor, t: Tensor, x0: Tensor) -> Tensor:
        """ε = (x_t - sqrt(ᾱ_t) x_0) / sqrt(1 - ᾱ_t): Eq. 4 solved for ε."""
        n = xt.dim()
        c1 = extract(self.sqrt_recip_alphas_cumprod, t, n)
        c2 = extract(self.sqrt_recipm1_alphas_cumprod, t, n)
        return (c1 * xt - x0) / c2

    def v_from_eps(self, x0: Tensor, eps: Tensor, t: Tensor) -> Tensor:
        """v = sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0 (Salimans & Ho 2022, Sec. 4)."""
        n = x0.dim()
        a, b = extract(self.sqrt_alphas_cumprod, t, n), extract(self.sqrt_one_minus_alphas_cumprod, t, n)
        return a * eps - b * x0

    def get_v(self, x0: Tensor, noise: Tensor, t: Tensor) -> Tensor:
        """Same as :meth:`v_from_eps` (the diffusers name)."""
        return self.v_from_eps(x0, noise, t)

    def predict_x0_from_v(self, xt: Tensor, t: Tensor, v: Tensor) -> Tensor:
        """x_0 = sqrt(ᾱ_t) x_t - sqrt(1 - ᾱ_t) v: (x_t, v) is a rotation of (x_0, ε) by angle φ_t."""
        n = xt.dim()
        a, b = extract(self.sqrt_alphas_cumprod, t, n), extract(self.sqrt_one_minus_alphas_cumprod, t, n)
        return a * xt - b * v

    def predict_eps_from_v(self, xt: Tensor, t: Tensor, v: Tensor) -> Tensor:
        """ε = sqrt(1 - ᾱ_t) x_t + sqrt(ᾱ_t) v."""
        n = xt.dim()
        a, b = extract(self.sqrt_alphas_cumprod, t, n), extract(self.sqrt_one_minus_alphas_cumprod, t, n)
        return b * xt + a * v
