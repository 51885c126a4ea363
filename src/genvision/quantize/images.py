"""Images for classic VQ (an image file or a data set's images) and a tokenizer's rate/distortion point."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from genvision.errors import GenvisionError
from genvision.protocols import Tokenizer


def load_image_file(path: Path) -> Tensor:
    """A PNG/JPEG as (1, C, H, W) in [-1, 1]: grey images keep one channel, everything else becomes RGB."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("L" if img.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise GenvisionError(f"{path}: cannot read the image ({exc})") from None
    x = torch.from_numpy(arr.copy())
    x = x[None] if x.dim() == 2 else x.permute(2, 0, 1)
    return x[None].float().div(127.5).sub(1.0)


def load_images(source: str, *, n: int, seed: int) -> tuple[Tensor, str]:
    """(images (N, C, H, W) in [-1, 1], a short name) from an image file or a dataset name (n random images
    of its train split)."""
    from genvision.data import DATASETS, load_dataset

    path = Path(source)
    if path.is_file():
        return load_image_file(path), path.stem
    if source not in DATASETS:
        raise GenvisionError(f"{source!r} is neither an image file nor a dataset ({', '.join(DATASETS)})")
    data = load_dataset(source, split="train")
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return data.float_images(pick), source


def tokenizer_operating_point(model: Tokenizer, label: str, images: Tensor) -> tuple[str, float, float]:
    """(label, bits per pixel, PSNR) of a trained tokenizer (VQ-VAE, token dVAE) on images (N, C, H, W) in
    [-1, 1]: its code map costs h*w*log2(K) bits per image, like the patch code map."""
    from genvision.eval.reconstruction import psnr

    if not isinstance(model, Tokenizer):
        raise GenvisionError(f"{label} is not a tokenizer (vqvae / dvae-tokens)")
    with torch.no_grad():
        idx = model.encode_indices(images)
        recon = model.decode_indices(idx).float().clamp(-1, 1)
    k = int(model.num_codes)
    bpp = idx[0].numel() * math.log2(k) / images[0].numel()
    value = float(psnr(recon, images))
    return (f"{label} K={k}", bpp, value)
