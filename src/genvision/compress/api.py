"""compress(MODEL, images) -> Container and decompress(Container) -> images: pick the codec by what the model
can do (a PixelCNN codes pixels; a tokenizer, with or without its prior, codes code maps; "patch-vq" needs no
model), and check that a file is decoded with the very weights it was coded with."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from genvision.compress import codes, patch, pixels
from genvision.compress.container import Container, weights_digest
from genvision.errors import GenvisionError
from genvision.protocols import PixelCoder

PATCH_VQ = "patch-vq"


class CompressOptions(NamedTuple):
    """prior: "learned" or "uniform" (tokenizers); binarize: threshold grey images for a binary PixelCNN;
    batch: images per pass of the coding loop (stored: the decoder must use the same); k, patch, iters, seed:
    patch VQ."""

    prior: str = "learned"
    binarize: bool = False
    batch: int = 256
    k: int = 64
    patch: int = 4
    iters: int = 10
    seed: int = 0


class Decompressed(NamedTuple):
    images: np.ndarray  # (N, H, W, C) uint8
    labels: np.ndarray | None  # (N,) int64
    names: list[str] | None


def load_coding_model(target: str) -> nn.Module:
    """A model from a run folder, checkpoint or pretrained:NAME, in float32 eval mode on the CPU."""
    from genvision.loading import load_model

    model, _ = load_model(target)
    return model.float().eval()


def _codec(model: nn.Module) -> str:
    if isinstance(model, PixelCoder):
        return "pixelcnn"
    try:
        codes.parts(model)
    except GenvisionError:
        raise GenvisionError(f"{type(model).__name__} cannot compress images: use a PixelCNN, a VQ-VAE / token "
                             f"dVAE or its prior, or {PATCH_VQ}") from None
    return "codes"


def _check_images(images: np.ndarray) -> Tensor:
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[0] == 0:
        raise GenvisionError(f"images must be a non-empty (N, H, W, C) uint8 array, got {images.dtype} "
                             f"{tuple(images.shape)}")
    return torch.from_numpy(np.ascontiguousarray(images))


def compress(target: str, images: np.ndarray, *, labels: np.ndarray | None = None, names: list[str] | None = None,
             options: CompressOptions | None = None, model: nn.Module | None = None) -> Container:
    """images (N, H, W, C) uint8 [+ labels (N,)] -> a Container (see container.py). target: how the decoder
    will load the model ("pretrained:NAME", a run folder) or "patch-vq"; model: the loaded model, if at hand."""
    options = options or CompressOptions()
    x = _check_images(images)
    given = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if options.batch < 1:
        raise GenvisionError(f"--batch must be >= 1, got {options.batch}")
    header = {"model": target, "shape": list(images.shape[1:]), "count": int(images.shape[0])}
    if names is not None:
        header["names"] = list(names)
    if target == PATCH_VQ:
        fields, payload = patch.encode(x, given, k=options.k, patch=options.patch, iters=options.iters,
                                       seed=options.seed)
        return Container({**header, "codec": PATCH_VQ, **fields}, payload)
    model = load_coding_model(target) if model is None else model.float().eval()
    codec = _codec(model)
    if codec == "pixelcnn":
        fields, payload = pixels.encode(model, x, given, binarize=options.binarize, batch=options.batch)
    else:
        fields, payload = codes.encode(model, x, given, prior=options.prior, batch=options.batch)
    return Container({**header, "codec": codec, "weights": weights_digest(model), **fields}, payload)


def decompress(container: Container, *, model_path: str | None = None, model: nn.Module | None = None
               ) -> Decompressed:
    """The images of a Container, decoded with the model it names (or model_path / model instead, which must
    have the same weights)."""
    header, payload = container
    try:
        codec = header["codec"]
        if codec == PATCH_VQ:
            images, labels = patch.decode(header, payload)
        else:
            target = model_path or header["model"]
            model = load_coding_model(target) if model is None else model.float().eval()
            if weights_digest(model) != header["weights"]:
                raise GenvisionError(f"this file was compressed with {header['model']} (weights sha256 "
                                     f"{header['weights'][:12]}...); {target} has other weights")
            if codec == "pixelcnn" and isinstance(model, PixelCoder):
                images, labels = pixels.decode(model, header, payload)
            elif codec == "codes":
                images, labels = codes.decode(model, header, payload)
            else:
                raise GenvisionError(f"unknown codec {codec!r} in the file's header")
    except (KeyError, TypeError, ValueError) as exc:
        raise GenvisionError(f"the file's header is incomplete or malformed ({exc!r})") from None
    if list(images.shape) != [header["count"], *header["shape"]]:
        raise GenvisionError("the decoded images do not have the shape the header declares")
    return Decompressed(images, None if labels is None else labels.numpy(), header.get("names"))
