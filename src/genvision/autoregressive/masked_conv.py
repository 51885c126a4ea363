"""Causal convolutions: PixelCNN masks (type A / B, RGB channel ordering) and the two Gated PixelCNN stacks.

A pixel (i, j) may depend only on pixels before it in raster order (rows above, then the pixels to its left);
with C > 1 data channels the colours of one pixel are ordered R < G < B (Sec. 3.4, van den Oord et al. 2016a).
Feature channels are split into C contiguous groups, group g belonging to colour g.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.errors import GenvisionError

MaskType = Literal["A", "B"]


def channel_groups(channels: int, data_channels: int) -> Tensor:
    """Colour group of each of `channels` feature channels: (channels,) int64 in [0, data_channels)."""
    if channels % data_channels:
        raise GenvisionError(
            f"masked conv: {channels} channels do not split into {data_channels} colour groups"
        )
    return torch.arange(channels) // (channels // data_channels)


def centre_mask(
    out_channels: int, in_channels: int, *, mask_type: MaskType, data_channels: int = 1
) -> Tensor:
    """Which input channels of the current pixel each output channel may see: (out, in) float in {0, 1}.

    Type A: output group g sees input groups < g (R sees nothing of the current pixel, G sees R, B sees R, G).
    Type B: output group g sees input groups <= g. With data_channels == 1: A is all zeros, B all ones.
    """
    if mask_type not in ("A", "B"):
        raise GenvisionError(f"masked conv: mask_type must be 'A' or 'B', got {mask_type!r}")
    g_out = channel_groups(out_channels, data_channels)[:, None]
    g_in = channel_groups(in_channels, data_channels)[None, :]
    allowed = g_in < g_out if mask_type == "A" else g_in <= g_out
    return allowed.float()


def causal_mask(
    out_channels: int, in_channels: int, kernel_size: int, *, mask_type: MaskType, data_channels: int = 1
) -> Tensor:
    """PixelCNN mask (out, in, k, k): rows below the centre and pixels right of the centre are zero (Fig. 2,
    van den Oord et al. 2016a); the centre follows `centre_mask`."""
    c = kernel_size // 2
    mask = torch.ones(out_channels, in_channels, kernel_size, kernel_size)
    mask[:, :, c + 1 :, :] = 0
    mask[:, :, c, c + 1 :] = 0
    mask[:, :, c, c] = centre_mask(
        out_channels, in_channels, mask_type=mask_type, data_channels=data_channels
    )
    return mask


def _check_odd(kernel_size: int, name: str) -> None:
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise GenvisionError(f"{name}: kernel_size must be a positive odd integer, got {kernel_size}")


class MaskedConv2d(nn.Conv2d):
    """Conv2d with a causal mask applied as `weight * mask` in forward, so masked weights get zero gradient.

    x: (B, in_ch, H, W) -> (B, out_ch, H, W), zero "same" padding (k // 2 on every side).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        mask_type: MaskType,
        data_channels: int = 1,
        bias: bool = True,
    ) -> None:
        _check_odd(kernel_size, "MaskedConv2d")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.mask_type = mask_type
        self.data_channels = data_channels
        mask = causal_mask(
            out_channels, in_channels, kernel_size, mask_type=mask_type, data_channels=data_channels
        )
        self.register_buffer("mask", mask)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)

    def step_weight(self) -> Tensor:
        """Masked weight for one output position, rows up to the centre only: (out, in * (k//2 + 1) * k)."""
        c = self.kernel_size[0] // 2
        return (self.weight * self.mask)[:, :, : c + 1].reshape(self.out_channels, -1)


def conv_at(
    x_padded: Tensor, weight: Tensor, bias: Tensor | None, i: int, j: int, height: int, width: int
) -> Tensor:
    """One output position of a causal conv from a padded input, for the incremental samplers.

    x_padded: (n, in, H + top, W + left + right) with the input of position (i, j) at (i + top, j + left);
    weight: (out, in * height * width) over rows [i - height + 1, i], columns [j - left, j - left + width).
    Returns (n, out).
    """
    patch = x_padded[:, :, i : i + height, j : j + width]
    return F.linear(patch.reshape(patch.shape[0], -1), weight, bias)


class VerticalConv2d(nn.Conv2d):
    """Vertical stack conv (Fig. 1 right, van den Oord et al. 2016b): a k x k kernel cut to the rows at and
    above the centre, i.e. a (k//2 + 1, k) kernel; output row i sees input rows [i - k//2, i], all columns
    within k//2. No mask: the stack is made causal by shifting it down one row before it feeds the
    horizontal stack. x: (B, in, H, W) -> (B, out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        _check_odd(kernel_size, "VerticalConv2d")
        super().__init__(in_channels, out_channels, (kernel_size // 2 + 1, kernel_size))
        self.reach = kernel_size // 2

    def forward(self, x: Tensor) -> Tensor:
        r = self.reach
        return super().forward(F.pad(x, (r, r, r, 0)))


class HorizontalConv2d(nn.Conv2d):
    """Horizontal stack conv: a (1, k//2 + 1) kernel over columns [j - k//2, j] of the current row; its last
    column (the current pixel) carries the type A / B channel mask. x: (B, in, H, W) -> (B, out, H, W)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        mask_type: MaskType,
        data_channels: int = 1,
    ) -> None:
        _check_odd(kernel_size, "HorizontalConv2d")
        super().__init__(in_channels, out_channels, (1, kernel_size // 2 + 1))
        self.reach = kernel_size // 2
        mask = torch.ones_like(self.weight)
        mask[:, :, 0, -1] = centre_mask(
            out_channels, in_channels, mask_type=mask_type, data_channels=data_channels
        )
        self.register_buffer("mask", mask)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, (self.reach, 0, 0, 0)), self.weight * self.mask, self.bias)

    def step_weight(self) -> Tensor:
        """Masked weight flattened for `conv_at`: (out, in * (k//2 + 1))."""
        return (self.weight * self.mask).reshape(self.out_channels, -1)
