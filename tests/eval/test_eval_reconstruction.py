import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from genvision.errors import GenvisionError
from genvision.eval import gaussian_window, mse, psnr, ssim


def _reference_ssim(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """skimage.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False), per
    (H, W) plane: gaussian filter truncated at 3.5 sigma (11 taps), border of 5 cropped, then averaged."""

    def blur(a):
        return gaussian_filter(a, sigma=1.5, truncate=3.5, mode="reflect")

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s[5:-5, 5:-5].mean())


def _images(seed: int, shape=(2, 3, 16, 16)) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 - 1


def test_mse_and_psnr_known_value():
    x = torch.zeros(2, 1, 8, 8)
    y = x + 0.1
    assert mse(x, y) == pytest.approx(0.01, rel=1e-6)
    assert psnr(x, y) == pytest.approx(10 * math.log10(4 / 0.01), rel=1e-6)  # 26.02 dB
    assert psnr(x, y, data_range=1.0) == pytest.approx(10 * math.log10(1 / 0.01), rel=1e-6)


def test_psnr_is_mean_of_per_image_values():
    x = torch.zeros(2, 1, 4, 4)
    y = torch.cat([torch.full((1, 1, 4, 4), 0.1), torch.full((1, 1, 4, 4), 0.2)])
    expected = (10 * math.log10(4 / 0.01) + 10 * math.log10(4 / 0.04)) / 2
    assert psnr(x, y) == pytest.approx(expected, rel=1e-6)
    assert psnr(x, x) == math.inf


def test_gaussian_window_normalised_and_symmetric():
    w = gaussian_window(11, 1.5)
    assert w.sum().item() == pytest.approx(1.0)
    torch.testing.assert_close(w, w.flip(0))
    assert w.argmax().item() == 5


def test_ssim_identity_and_reference():
    x = _images(0)
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-12)
    y = (x + 0.3 * _images(1)).clamp(-1, 1)
    expected = np.mean(
        [[_reference_ssim(x[b, c].numpy(), y[b, c].numpy(), 2.0) for c in range(3)] for b in range(2)]
    )
    assert ssim(x, y) == pytest.approx(expected, rel=1e-10)
    assert ssim(y, x) == pytest.approx(ssim(x, y), rel=1e-12)


def test_ssim_decreases_with_noise():
    x = _images(2)
    g = torch.Generator().manual_seed(3)
    noise = torch.randn(x.shape, generator=g, dtype=torch.float64)
    values = [ssim(x, x + level * noise) for level in (0.0, 0.05, 0.2, 0.5, 1.0)]
    assert values[0] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


def test_ssim_small_images_raise():
    with pytest.raises(GenvisionError):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(GenvisionError):
        mse(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 9))
