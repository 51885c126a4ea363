"""Frechet distance between Gaussians fitted to feature sets (the 'F' in FID, Heusel et al. 2017)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from genvision.errors import GenvisionError


class FeatureStats(NamedTuple):
    """Gaussian fitted to features: mean (D,) and covariance (D, D), both float64."""

    mean: Tensor
    cov: Tensor


def gaussian_stats(features: Tensor) -> FeatureStats:
    """Mean and unbiased covariance (divides by N - 1, as numpy.cov) of features: (N, D), N >= 2."""
    f = torch.as_tensor(features).detach().to(torch.float64)
    if f.dim() != 2 or f.shape[0] < 2:
        raise GenvisionError(f"features must be (N, D) with N >= 2, got shape {tuple(f.shape)}")
    mean = f.mean(dim=0)
    centered = f - mean
    cov = centered.T @ centered / (f.shape[0] - 1)
    return FeatureStats(mean, cov)


def _psd_sqrt(a: Tensor) -> Tensor:
    """Symmetric square root of a symmetric PSD matrix; tiny negative eigenvalues are clipped to 0."""
    evals, evecs = torch.linalg.eigh((a + a.T) / 2)
    return (evecs * evals.clamp(min=0).sqrt()) @ evecs.T


def frechet_distance(stats_a: FeatureStats, stats_b: FeatureStats) -> float:
    """d^2 = ||mu_a - mu_b||^2 + Tr(A + B - 2 (A B)^{1/2})  (Eq. 6, Heusel et al. 2017).

    Tr((A B)^{1/2}) is computed as the sum of square roots of the eigenvalues of sqrt(A) B sqrt(A),
    which has the same spectrum as A B but is symmetric PSD, so no complex parts arise (scipy's
    sqrtm route needs the imaginary residue dropped). Round-off negatives are clipped to 0.
    """
    mu_a, cov_a = (t.to(torch.float64) for t in stats_a)
    mu_b, cov_b = (t.to(torch.float64) for t in stats_b)
    if mu_a.shape != mu_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (*mu_a.shape, *mu_a.shape):
        raise GenvisionError(
            f"feature stats do not match: means {tuple(mu_a.shape)} vs {tuple(mu_b.shape)}, "
            f"covariances {tuple(cov_a.shape)} vs {tuple(cov_b.shape)}"
        )
    sqrt_a = _psd_sqrt(cov_a)
    m = sqrt_a @ cov_b @ sqrt_a
    trace_sqrt = torch.linalg.eigvalsh((m + m.T) / 2).clamp(min=0).sqrt().sum()
    mean_term = (mu_a - mu_b).square().sum()
    d2 = mean_term + torch.trace(cov_a) + torch.trace(cov_b) - 2 * trace_sqrt
    return max(float(d2), 0.0)


def frechet_distance_features(features_a: Tensor, features_b: Tensor) -> float:
    """Frechet distance between Gaussians fitted to features_a: (N, D) and features_b: (M, D)."""
    return frechet_distance(gaussian_stats(features_a), gaussian_stats(features_b))
