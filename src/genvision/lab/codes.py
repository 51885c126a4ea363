"""The VQ-VAE tab: an image's code map (numbers on colours, like the lecture's figure), its decoding, editing
one cell, prior samples; and the classic patch VQ of the same image (quantize/patch_vq.py) for comparison."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor, nn

from genvision.errors import GenvisionError
from genvision.lab.images import check_label, show_grid
from genvision.protocols import num_labels
from genvision.quantize.patch_vq import PatchCodebook, decode, encode, fit_patch_codebook

CELL = 40  # pixels per code-map cell on the page: a click at (x, y) is cell (y // CELL, x // CELL)


def code_colour(code: int, num_codes: int) -> tuple[int, int, int]:
    """A colour per code: hues spread by the golden ratio so that neighbouring indices differ."""
    import colorsys

    hue = (code * 0.618034) % 1.0
    light = 0.55 + 0.25 * ((code * 7) % 3) / 2
    r, g, b = colorsys.hls_to_rgb(hue, light, 0.65)
    return int(r * 255), int(g * 255), int(b * 255)


def render_code_map(codes: Tensor, num_codes: int, *, cell: int = CELL,
                    highlight: tuple[int, int] | None = None) -> np.ndarray:
    """Code map (h, w) int64 -> uint8 (h * cell, w * cell, 3): each cell coloured by its code, the index
    written in it; `highlight` (row, col) gets a black frame."""
    h, w = codes.shape
    img = Image.new("RGB", (w * cell, h * cell), "white")
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=cell // 2)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        font = ImageFont.load_default()
    for i in range(h):
        for j in range(w):
            code = int(codes[i, j])
            colour = code_colour(code, num_codes)
            box = (j * cell, i * cell, (j + 1) * cell - 1, (i + 1) * cell - 1)
            draw.rectangle(box, fill=colour, outline=(255, 255, 255))
            ink = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
            draw.text(((j + 0.5) * cell, (i + 0.5) * cell), str(code), fill=ink, font=font, anchor="mm")
    if highlight is not None:
        i, j = highlight
        draw.rectangle((j * cell, i * cell, (j + 1) * cell - 1, (i + 1) * cell - 1), outline=(0, 0, 0), width=3)
    return np.asarray(img)


def cell_at(x: int, y: int, shape: tuple[int, int], *, cell: int = CELL) -> tuple[int, int]:
    """Pixel (x, y) of the rendered code map -> (row, col), clamped to the map."""
    return min(max(int(y) // cell, 0), shape[0] - 1), min(max(int(x) // cell, 0), shape[1] - 1)


def edit_code(codes: Tensor, row: int, col: int, code: int, num_codes: int) -> Tensor:
    """A copy of the code map (h, w) with cell (row, col) set to `code` (checked against the map and K)."""
    h, w = codes.shape
    if not (0 <= row < h and 0 <= col < w):
        raise GenvisionError(f"cell ({row}, {col}) is outside the {h}x{w} code map")
    if not 0 <= code < num_codes:
        raise GenvisionError(f"code {code} is out of range: the codebook has codes 0..{num_codes - 1}")
    out = codes.clone()
    out[row, col] = code
    return out


class CodeView(NamedTuple):
    code_map: np.ndarray  # rendered code map
    image: np.ndarray  # the decoded code map, upscaled uint8
    codes: Tensor  # (h, w) int64


@torch.no_grad()
def encode_image(vqvae: nn.Module, x: Tensor) -> Tensor:
    """x (1, C, H, W) in [-1, 1] -> its code map (h, w) int64 (vqvae.encode_indices)."""
    return vqvae.encode_indices(x)[0]


@torch.no_grad()
def view_codes(vqvae: nn.Module, codes: Tensor, *, highlight: tuple[int, int] | None = None) -> CodeView:
    """A code map (h, w) -> its rendering and its decoded image (vqvae.decode_indices)."""
    image = vqvae.decode_indices(codes[None])
    return CodeView(render_code_map(codes, vqvae.config.num_codes, highlight=highlight), show_grid(image, nrow=1),
                    codes)


@torch.no_grad()
def prior_samples(prior: nn.Module, *, label: int, n: int = 8, seed: int = 0) -> np.ndarray:
    """n samples of a class from the PixelCNN prior over code maps, decoded: upscaled uint8 grid."""
    labels = None
    if num_labels(prior):
        labels = torch.full((n,), check_label(label, num_labels(prior)), dtype=torch.long)
    return show_grid(prior.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed)), nrow=min(n, 8))


class PatchVQView(NamedTuple):
    codebook: np.ndarray  # the K patches, upscaled uint8
    code_map: np.ndarray  # rendered code map of the image
    image: np.ndarray  # the image rebuilt from its patch codes, upscaled uint8
    text: str


def fit_patch_vq(images: Tensor, *, k: int, patch: int = 4, seed: int = 0) -> PatchCodebook:
    """k-means codebook of p x p patches of images (N, C, H, W) in [-1, 1] (LBG; 10 Lloyd steps)."""
    if not 2 <= k <= 512:
        raise GenvisionError(f"K must be in 2..512, got {k}")
    return fit_patch_codebook(images, k=k, patch=patch, iters=10, generator=torch.Generator().manual_seed(seed))


def view_patch_vq(book: PatchCodebook, x: Tensor) -> PatchVQView:
    """x (1, C, H, W) in [-1, 1] coded with a patch codebook: the codebook, the code map, the rebuilt image."""
    codes = encode(x, book)
    rebuilt = decode(codes, book)
    mse = float((rebuilt - x).pow(2).mean())
    quality = "lossless" if mse < 1e-12 else f"PSNR {10 * np.log10(4.0 / mse):.1f} dB"  # data range 2
    per_row = max(1, int(np.ceil(np.sqrt(book.num_codes))))
    k, p = book.num_codes, book.patch
    text = (f"patch VQ: K = {k} patches of {p}x{p}, {np.log2(k):.1f} bits per patch = "
            f"{np.log2(k) / p**2:.2f} bits/pixel; this image: {quality}")
    return PatchVQView(show_grid(book.patches(), nrow=per_row, scale=3, padding=1),
                       render_code_map(codes[0], k), show_grid(rebuilt, nrow=1), text)
