"""Conditioning terms added to PixelCNN features: a class embedding (a per-image bias, Eq. 4 of van den Oord
et al. 2016b), a spatial conditioning map through a 1x1 conv (Eq. 5, e.g. for a VQ-VAE prior), and a learned
bias per row and per column (absolute position).

Why position: a causal stack only sees the rows above a pixel (about `receptive_field.up` of them) and the
zero padding of the top, left and right borders; never the bottom one. Below the first ~10 rows a 28x28 model
cannot tell row 14 from row 27, so it assigns real digits shifted down by 4 rows almost the likelihood of the
originals (+1.6 nats; shifted up: +25) and its samples run strokes and streaks into the always-empty bottom
rows (docs/pixelcnn.md, Sec. 7c). A data-independent bias b[c, i] + b'[c, j] tells every layer where it is
without touching causality."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from genvision.errors import GenvisionError

Window = tuple[slice, slice]  # (rows, cols) of the image that a cropped forward pass covers


class Conditioning(nn.Module):
    """Bias for `channels` feature maps from labels (B,) int64 and/or a map (B, cond_channels, H, W).

    Returns None when the model is unconditional, else a tensor broadcastable to (B, channels, H, W):
    (B, channels, 1, 1) for labels only, (B or 1, channels, H, W) with a map or position. None depends on
    pixels, so adding it never breaks causality.
    """

    def __init__(
        self, channels: int, *, num_classes: int = 0, cond_channels: int = 0, position_size: int = 0
    ) -> None:
        super().__init__()
        self.label_bias = nn.Embedding(num_classes, channels) if num_classes > 0 else None
        self.cond_proj = nn.Conv2d(cond_channels, channels, 1) if cond_channels > 0 else None
        # position_size > 0: a (channels, size, 1) row bias and a (channels, 1, size) column bias, zero at init
        # (the model starts as the position-blind one).
        self.row_bias = nn.Parameter(torch.zeros(channels, position_size, 1)) if position_size else None
        self.col_bias = nn.Parameter(torch.zeros(channels, 1, position_size)) if position_size else None

    def forward(
        self, labels: Tensor | None = None, cond_map: Tensor | None = None, window: Window | None = None
    ) -> Tensor | None:
        """window (rows, cols): the part of the image the features cover (the window sampler runs the network
        on a crop); None is the whole image. A cond_map is expected already cropped to the window."""
        bias = None
        if self.row_bias is not None and self.col_bias is not None:
            rows, cols = window if window is not None else (slice(None), slice(None))
            bias = (self.row_bias[:, rows] + self.col_bias[:, :, cols]).unsqueeze(0)  # (1, channels, h, w)
        if self.label_bias is not None:
            if labels is None:
                raise GenvisionError("class-conditional PixelCNN: labels (B,) int64 are required")
            label = self.label_bias(labels)[:, :, None, None]
            bias = label if bias is None else bias + label
        if self.cond_proj is not None:
            if cond_map is None:
                raise GenvisionError(
                    "PixelCNN with cond_channels > 0: a cond_map (B, cond_channels, H, W) is required"
                )
            proj = self.cond_proj(cond_map)
            bias = proj if bias is None else bias + proj
        return bias


def bias_at(bias: Tensor | None, i: int, j: int) -> Tensor | float:
    """The conditioning bias of position (i, j): (n, channels), or 0.0 when unconditional."""
    if bias is None:
        return 0.0
    if bias.shape[-1] == 1 and bias.shape[-2] == 1:
        return bias[:, :, 0, 0]
    return bias[:, :, i, j]


def add_bias(x: Tensor, bias: Tensor | None) -> Tensor:
    return x if bias is None else x + bias
