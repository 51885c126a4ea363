"""Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel (Binkowski et al. 2018)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from genvision.errors import GenvisionError


class KIDResult(NamedTuple):
    """Mean and (population) standard deviation of MMD^2 over the random subsets."""

    mean: float
    std: float


def polynomial_kernel(x: Tensor, y: Tensor) -> Tensor:
    """k(x, y) = (x . y / d + 1)^3 for x: (N, D), y: (M, D) -> (N, M)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased MMD^2 estimate between equally sized sets x, y: (m, D), m >= 2 (Binkowski et al. 2018)."""
    m = x.shape[0]
    k_xx = polynomial_kernel(x, x)
    k_yy = polynomial_kernel(y, y)
    k_xy = polynomial_kernel(x, y)
    # Diagonal terms k(x_i, x_i) are excluded from the within-set averages; that is what makes it unbiased.
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return within - 2 * k_xy.sum() / (m * m)


def kernel_inception_distance(
    features_a: Tensor,
    features_b: Tensor,
    *,
    subset_size: int = 1000,
    subsets: int = 10,
    generator: torch.Generator | None = None,
) -> KIDResult:
    """KID between features_a: (N, D) and features_b: (M, D).

    Each of `subsets` rounds draws min(subset_size, N, M) rows of each set without replacement and
    computes the unbiased MMD^2; the mean and std over rounds are returned. Values can be slightly
    negative for matching distributions (unbiased estimator), and are O(-1/m) for one set against
    itself, since shared points bring k(x, x) into the cross term.
    """
    a = torch.as_tensor(features_a).detach().to(torch.float64)
    b = torch.as_tensor(features_b).detach().to(torch.float64)
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise GenvisionError(
            f"KID features must be (N, D) and (M, D), got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    m = min(subset_size, a.shape[0], b.shape[0])
    if m < 2 or subsets < 1:
        raise GenvisionError(f"KID needs subset_size >= 2 and subsets >= 1, got {m} and {subsets}")
    mmds = []
    for _ in range(subsets):
        ia = torch.randperm(a.shape[0], generator=generator)[:m]
        ib = torch.randperm(b.shape[0], generator=generator)[:m]
        mmds.append(mmd2_unbiased(a[ia], b[ib]))
    values = torch.stack(mmds)
    return KIDResult(float(values.mean()), float(values.std(correction=0)))
