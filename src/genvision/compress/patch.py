"""Classic patch VQ as a file (Gray 1984): a K-code codebook of p x p patches fitted by k-means on the images
themselves, stored once per file on the 8-bit pixel grid (K C p^2 bytes), then the code map of every image,
each code coded with its frequency in this file (the K counts are stored too): the stream costs
sum_k n_k (-log2 n_k / n) bits, the empirical entropy of the codes, instead of log2 K per code."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from genvision.compress import labels as label_coding
from genvision.compress.coder import Decoder, Encoder
from genvision.compress.container import content_digest
from genvision.data.dataset import to_uint8
from genvision.errors import GenvisionError
from genvision.quantize.patch_vq import PatchCodebook, fit_patch_codebook
from genvision.quantize.patch_vq import decode as vq_decode
from genvision.quantize.patch_vq import encode as vq_encode


def _book(codebook_u8: Tensor, patch: int) -> PatchCodebook:
    return PatchCodebook(codebook_u8.float() / 127.5 - 1, patch)


class PatchCode(NamedTuple):
    codebook: Tensor  # (K, C p p) uint8, patches on the pixel grid
    maps: Tensor  # (N, H / p, W / p) int64


def fit(images: Tensor, *, k: int, patch: int, iters: int, seed: int) -> PatchCode:
    """k-means codebook of images (N, H, W, C) uint8, rounded to uint8, and the code maps under it."""
    _, h, w, _ = images.shape
    if k < 1 or patch < 1 or h % patch or w % patch:
        raise GenvisionError(f"patch VQ needs k >= 1 and a patch size that divides {h}x{w}, got k={k}, patch={patch}")
    x = images.permute(0, 3, 1, 2).float() / 127.5 - 1
    fitted = fit_patch_codebook(x, k=k, patch=patch, iters=iters, generator=torch.Generator().manual_seed(seed))
    codebook_u8 = to_uint8(fitted.codebook)  # stored on the pixel grid, and the codes chosen with it
    return PatchCode(codebook_u8, vq_encode(x, _book(codebook_u8, patch)))


def reconstruct(code: PatchCode, patch: int) -> np.ndarray:
    """(N, H, W, C) uint8 images of the code maps."""
    return to_uint8(vq_decode(code.maps, _book(code.codebook, patch))).permute(0, 2, 3, 1).numpy()


def encode(images: Tensor, given_labels: Tensor | None, *, k: int, patch: int, iters: int, seed: int
           ) -> tuple[dict, bytes]:
    """images (N, H, W, C) uint8 -> (header fields, payload)."""
    n = images.shape[0]
    codebook_u8, maps = fit(images, k=k, patch=patch, iters=iters, seed=seed)
    k_used = codebook_u8.shape[0]
    counts = torch.bincount(maps.flatten(), minlength=k_used)
    plan = label_coding.plan_labels(None, None, given_labels, n, batch=n)
    enc = Encoder()
    label_coding.write_labels(plan, enc)
    enc.uniform(codebook_u8.flatten().long(), 256)
    enc.uniform(counts, maps.numel() + 1)
    enc.categorical(maps.flatten(), (counts.double() / counts.sum()).float().expand(maps.numel(), -1))
    fields = {"k": k_used, "patch": patch, "code_shape": list(maps.shape[1:]),
              "content": content_digest(maps.numpy().astype(np.uint16)), **label_coding.header_fields(plan)}
    return fields, enc.finish()


def decode(header: dict, payload: bytes) -> tuple[np.ndarray, Tensor | None]:
    n, c = int(header["count"]), int(header["shape"][2])
    k, patch, (mh, mw) = int(header["k"]), int(header["patch"]), header["code_shape"]
    dec = Decoder(payload)
    plan = label_coding.read_labels(header, None, dec)
    codebook_u8 = torch.from_numpy(dec.uniform(k * c * patch * patch, 256)).view(k, -1)
    counts = torch.from_numpy(dec.uniform(k, n * mh * mw + 1))
    if int(counts.sum()) != n * mh * mw:
        raise GenvisionError("the code frequencies in the file do not add up (damaged file?)")
    probs = (counts.double() / counts.sum()).float().expand(n * mh * mw, -1)
    maps = torch.from_numpy(dec.categorical(probs)).view(n, mh, mw)
    if content_digest(maps.numpy().astype(np.uint16)) != header["content"]:
        raise GenvisionError("the decoded code maps do not match the file's digest")
    return reconstruct(PatchCode(codebook_u8, maps), patch), plan.stored


def entropy_bits(maps: Tensor, k: int) -> float:
    """sum_k n_k (-log2 n_k / n): the ideal cost of the code maps under their own frequencies."""
    counts = torch.bincount(maps.flatten(), minlength=k).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(counts[counts > 0] * p.log2()).sum())
