"""Pictures of classic patch VQ: an image, its code map, its decoding and the codebook as a patch mosaic;
and the rate-distortion curve (PSNR against bits per pixel, one line per patch size)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor

from genvision.data.dataset import to_uint8
from genvision.eval.reconstruction import psnr
from genvision.quantize.patch_vq import PatchCodebook, decode, encode, rate_bits_per_pixel
from genvision.viz.grid import make_grid
from genvision.viz.plots import pyplot, save_figure


def _show(ax, image: Tensor, title: str) -> None:
    """image: (C, H, W) in [-1, 1]."""
    arr = to_uint8(image).permute(1, 2, 0).cpu().numpy()
    ax.imshow(arr[..., 0] if arr.shape[-1] == 1 else arr, cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def save_mosaic(image: Tensor, codebook: PatchCodebook, path: str | Path) -> Path:
    """One image (C, H, W) in [-1, 1], its code map (indices written in when it is small), its decoding and
    the K codes as a mosaic, side by side, as a PNG."""
    code_map = encode(image[None], codebook)[0]
    recon = decode(code_map[None], codebook)[0]
    k, p = codebook.num_codes, codebook.patch
    fig, axes = pyplot().subplots(1, 4, figsize=(13, 3.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.2]})
    _show(axes[0], image, f"image {image.shape[1]}x{image.shape[2]}")
    axes[1].imshow(code_map.cpu().numpy(), cmap="tab20" if k <= 20 else "viridis", vmin=0, vmax=k - 1,
                   interpolation="nearest")
    h, w = code_map.shape
    if h * w <= 400:
        for (r, c), v in np.ndenumerate(code_map.cpu().numpy()):
            axes[1].text(c, r, str(v), ha="center", va="center", fontsize=max(4, 9 - max(h, w) // 4),
                         color="white")
    axes[1].set_title(f"code map {h}x{w} ({math.log2(k):.0f} bits each)", fontsize=9)
    axes[1].axis("off")
    rate = rate_bits_per_pixel(k, p)
    _show(axes[2], recon, f"decoded: {rate:.3g} bpp, {psnr(recon[None], image[None]):.1f} dB")
    cols = int(math.ceil(math.sqrt(k)))
    axes[3].imshow(make_grid(codebook.patches().clamp(-1, 1), nrow=cols, padding=1, pad_value=128),
                   interpolation="nearest")
    axes[3].set_title(f"codebook: K={k} patches of {p}x{p}", fontsize=9)
    axes[3].axis("off")
    return save_figure(fig, path, dpi=120)


def plot_rate_distortion(rows: list[dict[str, Any]], path: str | Path, *, title: str = "",
                         points: Sequence[tuple[str, float, float]] = (),
                         file_points: Sequence[tuple[str, float, float]] = ()) -> Path:
    """PSNR (dB) against bits per pixel, one line per patch size, points labelled with K; rows as returned by
    rate_distortion_sweep (a dashed line adds the codebook's cost when rows carry bpp_with_codebook).
    points: other operating points (label, bpp, psnr), e.g. a VQ-VAE's, drawn as stars beside the curves;
    file_points: the same from real compressed files (genvision.compress), drawn as red squares."""
    fig, ax = pyplot().subplots(figsize=(5.5, 4))
    for i, p in enumerate(sorted({r["patch"] for r in rows})):
        sel = sorted((r for r in rows if r["patch"] == p), key=lambda r: r["k"])
        ys = [min(r["psnr"], 60.0) for r in sel]  # a lossless fit has infinite PSNR; draw it at 60 dB
        ax.plot([r["bpp"] for r in sel], ys, "o-", color=f"C{i}", label=f"{p}x{p} patches")
        if all("bpp_with_codebook" in r for r in sel):
            ax.plot([r["bpp_with_codebook"] for r in sel], ys, ":", color=f"C{i}", alpha=0.6)
        for r, y in zip(sel, ys, strict=True):
            ax.annotate(f"K={r['k']}", (r["bpp"], y), textcoords="offset points", xytext=(4, -9), fontsize=7)
    for label, bpp, psnr_db in points:
        ax.plot([bpp], [psnr_db], "*", markersize=12, color="k")
        ax.annotate(label, (bpp, psnr_db), textcoords="offset points", xytext=(6, 4), fontsize=8)
    for label, bpp, psnr_db in file_points:
        ax.plot([bpp], [psnr_db], "s", markersize=6, color="C3", fillstyle="none")
        ax.annotate(label, (bpp, psnr_db), textcoords="offset points", xytext=(5, 2), fontsize=7, color="C3")
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel (code map; dotted: + codebook; squares: real files)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(title or "classic VQ: rate vs distortion", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path, dpi=120)
