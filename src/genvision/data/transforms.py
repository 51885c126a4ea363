"""Per-batch transforms of float images x: (B, C, H, W) in [-1, 1].

Grid convention (shared with genvision.eval.likelihood): `levels` values evenly spaced on [-1, 1],
v_k = -1 + 2k / (levels - 1), so one bin is 2 / (levels - 1) wide. uint8 data through `to_float`
is exactly this grid with levels = 256.
"""

from __future__ import annotations

import torch
from torch import Tensor

from genvision.errors import GenvisionError


def _check_levels(levels: int) -> None:
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise GenvisionError(f"levels must be an int >= 2, got {levels!r}")


def bin_width(levels: int) -> float:
    """Width of one bin of the `levels` grid on [-1, 1]: 2 / (levels - 1)."""
    _check_levels(levels)
    return 2.0 / (levels - 1)


def binarize_static(x: Tensor, threshold: float = 0.0) -> Tensor:
    """x: (B, C, H, W) in [-1, 1] -> same shape in {-1, 1}: 1 where x > threshold."""
    return torch.where(x > threshold, 1.0, -1.0).to(x.dtype)


def binarize_dynamic(x: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """Stochastic binarisation: each pixel is 1 with probability (x + 1) / 2, else -1.

    x: (B, C, H, W) in [-1, 1] -> same shape in {-1, 1}; a fresh draw per call (Salakhutdinov & Murray 2008).
    """
    p = ((x.float() + 1) / 2).clamp_(0, 1)
    return (torch.bernoulli(p, generator=generator) * 2 - 1).to(x.dtype)


def to_levels(x: Tensor, levels: int) -> Tensor:
    """x in [-1, 1] -> int64 index 0..levels-1 of the nearest grid value (x outside is clamped)."""
    _check_levels(levels)
    return ((x.float() + 1) * ((levels - 1) / 2)).round_().clamp_(0, levels - 1).long()


def from_levels(index: Tensor, levels: int) -> Tensor:
    """int64 index 0..levels-1 -> float32 grid value -1 + 2 * index / (levels - 1) in [-1, 1]."""
    _check_levels(levels)
    return index.float() * (2.0 / (levels - 1)) - 1.0


def quantize(x: Tensor, levels: int) -> Tensor:
    """x in [-1, 1] snapped to the nearest of `levels` evenly spaced values in [-1, 1] (idempotent)."""
    return from_levels(to_levels(x, levels), levels).to(x.dtype)


def dequantize_uniform(x: Tensor, *, bits: int = 8, generator: torch.Generator | None = None) -> Tensor:
    """Uniform dequantisation: x + U[0, 1) * bin_width(2**bits).

    For uint8 data x = to_float(u) = u / 127.5 - 1 this is y = (u + U[0, 1)) / 127.5 - 1, i.e. the
    usual "x_uint8 + U[0, 1)" noise in units of the 256-level grid, mapped to [-1, 1] the same way as
    the data. Hence y lies in [-1, 1 + 2/255) (for bits=8), and each grid value v_k owns [v_k, v_k + bin).
    A density p(y) then bounds the discrete likelihood: bits/dim = (-log p(y) / D - log(bin)) / ln 2.
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
        raise GenvisionError(f"bits must be an int in 1..16, got {bits!r}")
    return dequantize_levels(x, 2**bits, generator=generator)


def dequantize_levels(x: Tensor, levels: int, *, generator: torch.Generator | None = None) -> Tensor:
    """x on the `levels` grid -> x + U[0, 1) * 2 / (levels - 1); see dequantize_uniform."""
    width = bin_width(levels)
    noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x + noise * width
