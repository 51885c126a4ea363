"""A toy where everything is known: data x_0 ~ N(m, s^2) independently per dimension.

Then x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε is jointly Gaussian with x_0 and ε, so the optimal denoiser
E[ε | x_t] is linear in x_t, and every reverse conditional has a closed form.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from genvision.diffusion.schedule import NoiseSchedule, extract


def optimal_eps_fn(schedule: NoiseSchedule, m: float, s: float):
    """E[ε | x_t] = Cov(ε, x_t) / Var(x_t) (x_t - E x_t) = b (x_t - a m) / (a^2 s^2 + b^2)."""

    def eps_fn(x: Tensor, t: Tensor) -> Tensor:
        a2 = extract(schedule.alphas_cumprod, t, x.dim()).to(x.dtype)
        a, b2 = a2.sqrt(), 1.0 - a2
        return b2.sqrt() * (x - a * m) / (a2 * s**2 + b2)

    return eps_fn


def numpy_alphas_cumprod(schedule: NoiseSchedule) -> np.ndarray:
    return np.cumprod(1.0 - schedule.betas.double().numpy())


def gaussian_data(n: int, shape: tuple[int, ...], m: float, s: float, seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return m + s * torch.randn((n, *shape), generator=g)


def reverse_variance(schedule: NoiseSchedule, s: float) -> np.ndarray:
    """Var(x_{t-1} | x_t) of the toy per code timestep t, (T,) float64 (t = 0: Var(x_0 | x_1) of the data).

    (x_{t-1}, x_t) are jointly Gaussian: Var(x_{t-1}) = ᾱ_{t-1} s^2 + 1 - ᾱ_{t-1} and
    x_t = sqrt(α_t) x_{t-1} + sqrt(β_t) z, so Var(x_{t-1} | x_t) = v - α v^2 / (α v + β).
    """
    beta = schedule.betas.double().numpy()
    alpha = 1.0 - beta
    ac_prev = np.append(1.0, np.cumprod(alpha)[:-1])
    v = ac_prev * s**2 + 1.0 - ac_prev
    return v - alpha * v**2 / (alpha * v + beta)
