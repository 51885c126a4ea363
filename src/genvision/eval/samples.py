"""Samples files: images (N, H, W, C) uint8 and optional labels (N,) in an .npz (written by viz.grid)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from genvision.errors import GenvisionError


def load_samples_npz(path: Path) -> tuple[Tensor, Tensor | None]:
    """images (N, H, W, C) uint8 -> float (N, C, H, W) in [-1, 1]; labels (N,) if present."""
    try:
        with np.load(path, allow_pickle=False) as f:
            images = f["images"]
            labels = f["labels"] if "labels" in f.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise GenvisionError(f"{path}: not a samples .npz with an 'images' array ({exc})") from None
    if images.dtype != np.uint8 or images.ndim != 4:
        raise GenvisionError(f"{path}: 'images' must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    y = None if labels is None else torch.from_numpy(labels).long()
    if y is not None and y.shape != (x.shape[0],):
        raise GenvisionError(f"{path}: {x.shape[0]} images but labels of shape {tuple(y.shape)}")
    return x, y
