"""The denoising UNet (Ho et al. 2020, with the ADM refinements of Dhariwal & Nichol 2021).

The encoder half (`UNetEncoder`) is shared with the noise-aware classifier of classifier guidance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from genvision.errors import GenvisionError
from genvision.nn.blocks import (
    Downsample,
    ResBlock,
    SelfAttention,
    TimeEmbedding,
    Upsample,
    group_norm,
    zero_init,
)


@dataclass(frozen=True)
class UNetConfig:
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)  # one entry per resolution level; each level but the last halves
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (7,)  # feature-map sizes (H) that get self-attention
    attention_heads: int = 1
    dropout: float = 0.0
    norm_groups: int = 8
    # p x p pixels folded into channels before the stem and unfolded after the output conv (space-to-depth, as a
    # ViT/DiT "patch size"): the UNet runs at H/p, so its first (most memory-bound) level costs ~1/p^2 as much.
    # attention_resolutions then name sizes of the folded map (H/p, ...). 1: plain UNet.
    patch_size: int = 1

    def __post_init__(self) -> None:
        if self.base_channels < 1 or not self.channel_mults or self.num_res_blocks < 1:
            raise GenvisionError("UNet needs base_channels >= 1, channel_mults and num_res_blocks >= 1")
        if self.patch_size < 1:
            raise GenvisionError(f"patch_size must be >= 1, got {self.patch_size}")


class UNetEncoder(nn.Module):
    """Stem conv, then per level: ResBlocks (+ attention) and a downsample (not after the last level).

    forward(x (B, C, H, W), emb (B, E)) -> (h, skips): h at the lowest resolution, skips for the decoder.
    """

    def __init__(self, in_channels: int, image_size: int, cfg: UNetConfig, emb_dim: int) -> None:
        super().__init__()
        ch = cfg.base_channels
        self.stem = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.blocks = nn.ModuleList()
        self.skip_channels = [ch]
        size = image_size
        for level, mult in enumerate(cfg.channel_mults):
            out = cfg.base_channels * mult
            for _ in range(cfg.num_res_blocks):
                attn = SelfAttention(out, heads=cfg.attention_heads, groups=cfg.norm_groups) \
                    if size in cfg.attention_resolutions else None
                self.blocks.append(nn.ModuleDict({
                    "res": ResBlock(ch, out, emb_dim, dropout=cfg.dropout, groups=cfg.norm_groups),
                    **({"attn": attn} if attn is not None else {})}))
                ch = out
                self.skip_channels.append(ch)
            if level < len(cfg.channel_mults) - 1:
                self.blocks.append(nn.ModuleDict({"down": Downsample(ch)}))
                self.skip_channels.append(ch)
                size = (size + 1) // 2
        self.out_channels = ch
        self.out_size = size

    def forward(self, x: Tensor, emb: Tensor) -> tuple[Tensor, list[Tensor]]:
        h = self.stem(x)
        skips = [h]
        for block in self.blocks:
            if "down" in block:
                h = block["down"](h)
            else:
                h = block["res"](h, emb)
                if "attn" in block:
                    h = block["attn"](h)
            skips.append(h)
        return h, skips


class UNet(nn.Module):
    """eps/x0/v-predicting UNet with time (and optional class) conditioning.

    forward(x: (B, C, H, W), t: (B,) int64 timesteps, labels: (B,) int64 or None) -> (B, C_out, H, W).
    With patch_size p > 1, x is folded to (B, C p^2, H/p, W/p) first (p must divide image_size).
    With num_classes > 0 the class embedding has num_classes + 1 rows; row `num_classes` is the null
    label used for classifier-free guidance (labels=None means all-null).
    """

    def __init__(self, in_channels: int, image_size: int, cfg: UNetConfig, *, num_classes: int = 0,
                 out_channels: int | None = None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.patch_size = p = cfg.patch_size
        if image_size % p:
            raise GenvisionError(f"patch_size {p} must divide the image size {image_size}")
        out_channels = (out_channels or in_channels) * p * p  # the folded map's channels, in and out
        in_channels, image_size = in_channels * p * p, image_size // p
        emb_dim = 4 * cfg.base_channels
        self.time_embed = TimeEmbedding(cfg.base_channels, emb_dim)
        self.class_embed = nn.Embedding(num_classes + 1, emb_dim) if num_classes > 0 else None
        self.encoder = UNetEncoder(in_channels, image_size, cfg, emb_dim)
        ch = self.encoder.out_channels
        self.mid1 = ResBlock(ch, ch, emb_dim, dropout=cfg.dropout, groups=cfg.norm_groups)
        self.mid_attn = SelfAttention(ch, heads=cfg.attention_heads, groups=cfg.norm_groups)
        self.mid2 = ResBlock(ch, ch, emb_dim, dropout=cfg.dropout, groups=cfg.norm_groups)
        skips = list(self.encoder.skip_channels)
        self.up_blocks = nn.ModuleList()
        size = self.encoder.out_size
        for level, mult in reversed(list(enumerate(cfg.channel_mults))):
            out = cfg.base_channels * mult
            for i in range(cfg.num_res_blocks + 1):
                block = nn.ModuleDict({"res": ResBlock(ch + skips.pop(), out, emb_dim, dropout=cfg.dropout,
                                                       groups=cfg.norm_groups)})
                ch = out
                if size in cfg.attention_resolutions:
                    block["attn"] = SelfAttention(ch, heads=cfg.attention_heads, groups=cfg.norm_groups)
                if level > 0 and i == cfg.num_res_blocks:
                    block["up"] = Upsample(ch)
                    size = size * 2
                self.up_blocks.append(block)
        self.out_norm = group_norm(ch, cfg.norm_groups)
        self.out_conv = zero_init(nn.Conv2d(ch, out_channels, 3, padding=1))

    def embed(self, t: Tensor, labels: Tensor | None) -> Tensor:
        emb = self.time_embed(t)
        if self.class_embed is not None:
            if labels is None:
                labels = torch.full_like(t, self.num_classes, dtype=torch.long)
            emb = emb + self.class_embed(labels)
        return emb

    def forward(self, x: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
        emb = self.embed(t, labels)
        p = self.patch_size  # __init__ checked that p divides the image size
        if p > 1:
            x = torch.nn.functional.pixel_unshuffle(x, p)
        h, skips = self.encoder(x, emb)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for block in self.up_blocks:
            skip = skips.pop()
            h = block["res"](torch.cat([h, skip], dim=1), emb)
            if "attn" in block:
                h = block["attn"](h)
            if "up" in block:
                h = block["up"](h, size=tuple(skips[-1].shape[-2:]))
        out = self.out_conv(torch.nn.functional.silu(self.out_norm(h)))
        return torch.nn.functional.pixel_shuffle(out, p) if p > 1 else out
