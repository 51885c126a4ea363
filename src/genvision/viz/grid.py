"""Image grids as PNG files, with numpy + Pillow only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from genvision.data.dataset import to_uint8
from genvision.errors import GenvisionError


def make_grid(images: Tensor, *, nrow: int, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """images: (N, C, H, W) in [-1, 1], C in {1, 3} -> uint8 (rows*(H+p)+p, nrow*(W+p)+p, 3).

    Images fill the grid row by row, `nrow` per row.
    """
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise GenvisionError(f"make_grid expects (N, 1|3, H, W) images, got {tuple(images.shape)}")
    x = to_uint8(images).cpu()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    n, _, h, w = x.shape
    ncol = max(1, min(nrow, n))
    nrows = (n + ncol - 1) // ncol
    grid = np.full((nrows * (h + padding) + padding, ncol * (w + padding) + padding, 3), pad_value, np.uint8)
    arr = x.permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = arr[i]
    return grid


def save_grid(images: Tensor, path: str | Path, *, nrow: int = 8, scale: int = 1, padding: int = 2,
              row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None) -> Path:
    """Write a grid PNG (optionally upscaled by `scale`, with text labels on the left and top)."""
    grid = make_grid(images, nrow=nrow, padding=padding)
    img = Image.fromarray(grid)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    if row_labels or col_labels:
        img = _add_labels(img, images.shape[-2] * scale, images.shape[-1] * scale, padding * scale,
                          row_labels or [], col_labels or [])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _add_labels(img: Image.Image, h: int, w: int, pad: int, rows: Sequence[str],
                cols: Sequence[str]) -> Image.Image:
    left = 8 + 7 * max((len(s) for s in rows), default=0) if rows else 0
    top = 16 if cols else 0
    out = Image.new("RGB", (img.width + left, img.height + top), (255, 255, 255))
    out.paste(img, (left, top))
    draw = ImageDraw.Draw(out)
    for i, text in enumerate(rows):
        draw.text((2, top + pad + i * (h + pad) + h // 2 - 5), str(text), fill=(0, 0, 0))
    for j, text in enumerate(cols):
        draw.text((left + pad + j * (w + pad) + 1, 2), str(text), fill=(0, 0, 0))
    return out


def save_images_npz(images: Tensor, path: str | Path, *, labels: Tensor | None = None) -> Path:
    """Write `images` (N, H, W, C) uint8 and, when given, `labels` (N,) to an .npz file."""
    arr = to_uint8(images).cpu().permute(0, 2, 3, 1).numpy()
    payload = {"images": arr}
    if labels is not None:
        payload["labels"] = torch.as_tensor(labels).cpu().numpy().astype(np.int64)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # a file object: numpy would append .npz to a name ending in .NPZ
        np.savez_compressed(f, **payload)
    return path
