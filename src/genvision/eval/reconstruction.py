"""Reconstruction quality: MSE, PSNR and SSIM between image batches (B, C, H, W)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from genvision.errors import GenvisionError


def _pair(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    if x.shape != y.shape or x.dim() != 4:
        raise GenvisionError(
            f"images must both be (B, C, H, W) of one shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    return x.detach().to(torch.float64), y.detach().to(torch.float64)


def mse(x: Tensor, y: Tensor) -> float:
    """Mean squared error over all elements of x, y: (B, C, H, W)."""
    x, y = _pair(x, y)
    return float((x - y).square().mean())


def psnr(x: Tensor, y: Tensor, *, data_range: float = 2.0) -> float:
    """Mean over images of 10 log10(data_range^2 / MSE_image), in dB; x, y: (B, C, H, W).

    data_range = 2 for images in [-1, 1]. An exact reconstruction gives inf.
    """
    x, y = _pair(x, y)
    per_image = (x - y).square().flatten(1).mean(dim=1)
    return float((10.0 * torch.log10(data_range**2 / per_image)).mean())


def gaussian_window(size: int, sigma: float) -> Tensor:
    """Normalised 1-D Gaussian taps (size,), float64, centred."""
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    taps = torch.exp(-(coords**2) / (2 * sigma**2))
    return taps / taps.sum()


def ssim(
    x: Tensor,
    y: Tensor,
    *,
    data_range: float = 2.0,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> float:
    """Structural similarity (Eq. 13, Wang et al. 2004), mean over images; x, y: (B, C, H, W), H, W >= window.

    Local statistics use a Gaussian window (11 taps, sigma 1.5, as in the paper) over the valid region
    only, population (biased) variances, C1 = (k1 L)^2, C2 = (k2 L)^2; channels are averaged. This equals
    skimage's structural_similarity(gaussian_weights=True, use_sample_covariance=False).
    """
    x, y = _pair(x, y)
    if min(x.shape[-2:]) < window_size:
        raise GenvisionError(
            f"ssim needs H, W >= window_size={window_size}, got images of shape {tuple(x.shape)}"
        )
    channels = x.shape[1]
    taps = gaussian_window(window_size, sigma)
    kernel = (taps[:, None] * taps[None, :]).expand(channels, 1, window_size, window_size)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(t, kernel, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov_xy = blur(x * y) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return float(ssim_map.flatten(1).mean(dim=1).mean())
