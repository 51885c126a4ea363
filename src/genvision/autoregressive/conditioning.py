"""Conditioning terms added to PixelCNN features: a class embedding (a per-image bias, Eq. 4 of van den Oord
et al. 2016b) and a spatial conditioning map through a 1x1 conv (Eq. 5, e.g. for a VQ-VAE prior)."""

from __future__ import annotations

from torch import Tensor, nn

from genvision.errors import GenvisionError


class Conditioning(nn.Module):
    """Bias for `channels` feature maps from labels (B,) int64 and/or a map (B, cond_channels, H, W).

    Returns None when the model is unconditional, else a tensor broadcastable to (B, channels, H, W):
    (B, channels, 1, 1) for labels only, (B, channels, H, W) with a map. Neither depends on pixels, so
    adding it never breaks causality.
    """

    def __init__(self, channels: int, *, num_classes: int = 0, cond_channels: int = 0) -> None:
        super().__init__()
        self.label_bias = nn.Embedding(num_classes, channels) if num_classes > 0 else None
        self.cond_proj = nn.Conv2d(cond_channels, channels, 1) if cond_channels > 0 else None

    def forward(self, labels: Tensor | None = None, cond_map: Tensor | None = None) -> Tensor | None:
        bias = None
        if self.label_bias is not None:
            if labels is None:
                raise GenvisionError("class-conditional PixelCNN: labels (B,) int64 are required")
            bias = self.label_bias(labels)[:, :, None, None]
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
