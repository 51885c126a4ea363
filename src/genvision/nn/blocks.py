"""Residual blocks, self-attention and resampling layers shared by the UNet and the noisy classifier."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from genvision.errors import GenvisionError


def group_norm(channels: int, groups: int = 8) -> nn.GroupNorm:
    return nn.GroupNorm(min(groups, channels), channels)


def zero_init(module: nn.Module) -> nn.Module:
    """Zero a layer's parameters, so a residual branch starts as the identity."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """GN -> SiLU -> conv3 -> (+ scale/shift from the embedding) -> GN -> SiLU -> dropout -> conv3, plus a skip.

    x: (B, C_in, H, W), emb: (B, E) -> (B, C_out, H, W). The embedding modulates the second norm as
    (1 + scale) * GN(h) + shift (the "scale-shift norm" of Nichol & Dhariwal 2021).
    """

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, *, dropout: float = 0.0, groups: int = 8) -> None:
        super().__init__()
        self.norm1 = group_norm(in_ch, groups)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * out_ch)
        self.norm2 = group_norm(out_ch, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = zero_init(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip = nn.Identity() if in_ch == out_ch else nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over the H*W positions, via F.scaled_dot_product_attention.

    x: (B, C, H, W) -> (B, C, H, W), residual.
    """

    def __init__(self, channels: int, *, heads: int = 1, groups: int = 8) -> None:
        super().__init__()
        if heads < 1 or channels % heads:
            raise GenvisionError(f"attention_heads={heads} must divide the {channels} channels of an attention layer")
        self.heads = heads
        self.norm = group_norm(channels, groups)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero_init(nn.Conv2d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = (qkv[:, i].transpose(-1, -2) for i in range(3))  # (B, heads, HW, C/heads)
        out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(-1, -2).reshape(b, c, h, w)
        return x + self.proj(out)


class Downsample(nn.Module):
    """Strided 3x3 conv: (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour x2 (or to a given size) then 3x3 conv."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor, size: tuple[int, int] | None = None) -> Tensor:
        x = F.interpolate(x, size=size, mode="nearest") if size else F.interpolate(x, scale_factor=2.0)
        return self.conv(x)


class TimeEmbedding(nn.Module):
    """t (B,) -> sinusoidal(t) -> Linear -> SiLU -> Linear: (B, emb_dim)."""

    def __init__(self, base_dim: int, emb_dim: int) -> None:
        super().__init__()
        self.base_dim = base_dim
        self.mlp = nn.Sequential(nn.Linear(base_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

    def forward(self, t: Tensor) -> Tensor:
        from genvision.nn.embedding import timestep_embedding

        return self.mlp(timestep_embedding(t, self.base_dim))


def ensure_contiguous(x: Tensor) -> Tensor:
    # torch 2.13 CPU: GroupNorm backward segfaults on channels_last inputs that do not require grad.
    return x if x.is_contiguous() else x.contiguous()

