"""Classic vector quantisation of images (Gray 1984; LBG, Linde, Buzo & Gray 1980): cut images into p x p
patches, learn a codebook of K patches by k-means, store each image as a code map of patch indices.

Rate: a code map spends log2 K bits per patch, i.e. log2(K) / p^2 bits per pixel (fixed-length codes, no
entropy coding), plus the codebook itself (K * C * p^2 numbers), which only vanishes per pixel when it is
shared by many images. Distortion: PSNR of decode(encode(x)) against x.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

from genvision.errors import GenvisionError
from genvision.eval.reconstruction import psnr
from genvision.quantize.kmeans import kmeans, nearest


class PatchCodebook(NamedTuple):
    """codebook: (K, C * p * p) float, each row a patch flattened in (C, p, p) order; patch: p."""

    codebook: Tensor
    patch: int

    @property
    def num_codes(self) -> int:
        return self.codebook.shape[0]

    @property
    def channels(self) -> int:
        return self.codebook.shape[1] // (self.patch * self.patch)

    def patches(self) -> Tensor:
        """The codes as images (K, C, p, p)."""
        return self.codebook.view(self.num_codes, self.channels, self.patch, self.patch)


def _check_images(images: Tensor, patch: int) -> None:
    if images.dim() != 4 or not images.is_floating_point():
        raise GenvisionError(f"images must be float (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if patch < 1 or images.shape[2] % patch or images.shape[3] % patch:
        raise GenvisionError(
            f"patch={patch} must divide the image size {images.shape[2]}x{images.shape[3]}"
        )


def to_patches(images: Tensor, patch: int) -> Tensor:
    """images (N, C, H, W) -> patches (N, H/p, W/p, C * p * p), each flattened in (C, p, p) order."""
    _check_images(images, patch)
    n, c, h, w = images.shape
    p = patch
    x = images.reshape(n, c, h // p, p, w // p, p)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, h // p, w // p, c * p * p)


def from_patches(patches: Tensor, patch: int) -> Tensor:
    """Inverse of to_patches: (N, h, w, C * p * p) -> images (N, C, h * p, w * p)."""
    n, h, w, d = patches.shape
    p = patch
    c = d // (p * p)
    x = patches.reshape(n, h, w, c, p, p)
    return x.permute(0, 3, 1, 4, 2, 5).reshape(n, c, h * p, w * p)


def fit_patch_codebook(
    images: Tensor, *, k: int, patch: int, iters: int = 20, generator: torch.Generator | None = None
) -> PatchCodebook:
    """k-means (k-means++ seeding, `iters` Lloyd steps) over all p x p patches of images (N, C, H, W) in
    [-1, 1]. With k >= the number of distinct patches every patch becomes a code (lossless)."""
    flat = to_patches(images, patch).reshape(-1, images.shape[1] * patch * patch)
    return PatchCodebook(kmeans(flat, k, iters=iters, generator=generator).centroids, patch)


def encode(images: Tensor, codebook: PatchCodebook) -> Tensor:
    """images (N, C, H, W) -> code map (N, H/p, W/p) int64: the index of each patch's nearest code."""
    if images.shape[1] != codebook.channels:
        raise GenvisionError(f"images have {images.shape[1]} channels, the codebook {codebook.channels}")
    patches = to_patches(images.float(), codebook.patch)
    index, _ = nearest(patches.reshape(-1, patches.shape[-1]), codebook.codebook.float())
    return index.view(patches.shape[:3])


def decode(code_map: Tensor, codebook: PatchCodebook) -> Tensor:
    """code map (N, h, w) int64 -> images (N, C, h * p, w * p): each index replaced by its patch."""
    if code_map.dim() != 3 or code_map.is_floating_point():
        raise GenvisionError(f"code map must be (N, h, w) integers, got {code_map.dtype} {tuple(code_map.shape)}")
    if code_map.numel() and (int(code_map.min()) < 0 or int(code_map.max()) >= codebook.num_codes):
        raise GenvisionError(f"code map indices must lie in [0, {codebook.num_codes})")
    return from_patches(codebook.codebook[code_map], codebook.patch)


def rate_bits_per_pixel(
    k: int,
    patch: int,
    *,
    channels: int = 1,
    n_images: int | None = None,
    image_pixels: int | None = None,
    codebook_bits: int = 32,
) -> float:
    """Bits per pixel (a pixel = all its channels) of storing images as code maps:

        log2(K) / p^2                                       (the code map, fixed-length indices)
      + K * C * p^2 * codebook_bits / (n_images * image_pixels)   (the codebook, when both are given)

    codebook_bits=32: the centroids as stored (float32); 8 would do if they were rounded to the pixel grid.
    """
    if k < 1 or patch < 1:
        raise GenvisionError(f"rate needs k >= 1 and patch >= 1, got k={k}, patch={patch}")
    bits = math.log2(k) / patch**2
    if n_images is not None and image_pixels is not None:
        bits += k * channels * patch**2 * codebook_bits / (n_images * image_pixels)
    return bits


def rate_distortion_sweep(
    images: Tensor,
    ks: Sequence[int],
    patches: Sequence[int],
    *,
    iters: int = 10,
    generator: torch.Generator | None = None,
) -> list[dict[str, Any]]:
    """For every (patch, k): fit on images (N, C, H, W) in [-1, 1], code them, measure on the same images.

    Rows {k, patch, bpp (code map only), bpp_with_codebook (the float32 codebook spread over these N
    images), psnr (dB, data range 2)}, in the order patches x ks.
    """
    n, c, h, w = images.shape
    rows = []
    for p in patches:
        for k in ks:
            book = fit_patch_codebook(images, k=k, patch=p, iters=iters, generator=generator)
            recon = decode(encode(images, book), book)
            rows.append({
                "k": k,
                "patch": p,
                "bpp": rate_bits_per_pixel(k, p),
                "bpp_with_codebook": rate_bits_per_pixel(k, p, channels=c, n_images=n, image_pixels=h * w),
                "psnr": psnr(recon, images),
            })
    return rows
