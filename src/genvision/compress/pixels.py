"""Lossless coding of images with a PixelCNN: every pixel (every colour) with the model's predictive
distribution, in raster order. The stream costs -log2 p(x [| y]) bits per image plus a few bits in all."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from genvision.autoregressive.model import PixelCNNModel
from genvision.compress import labels as label_coding
from genvision.compress.autoregressive import decode_values, encode_values
from genvision.compress.coder import Decoder, Encoder
from genvision.compress.container import content_digest
from genvision.data.dataset import to_uint8
from genvision.errors import GenvisionError


def _to_values(model: PixelCNNModel, images: Tensor, *, binarize: bool) -> tuple[Tensor, np.ndarray]:
    """images (N, H, W, C) uint8 -> (values (N, C, H, W), the images the values stand for (N, H, W, C) uint8).
    Refuses images the model cannot represent exactly unless binarize (Bernoulli models only)."""
    cfg = model.config
    if images.shape[1:] != (cfg.image_size, cfg.image_size, cfg.image_channels):
        raise GenvisionError(f"this PixelCNN codes {cfg.image_size}x{cfg.image_size}x{cfg.image_channels} images, "
                             f"got {'x'.join(map(str, images.shape[1:]))}")
    x = images.permute(0, 3, 1, 2).float() / 127.5 - 1
    v = model.values(x)
    back = to_uint8(model.dist.decode(v))
    if not torch.equal(back, images.permute(0, 3, 1, 2)):
        grey = int(torch.unique(images).numel())
        if cfg.output == "bernoulli" and not binarize:
            raise GenvisionError(f"this PixelCNN models binary images and these have {grey} grey levels: pass "
                                 "--binarize to code them thresholded at 128 (lossy), or use a 256-level PixelCNN")
        if cfg.output != "bernoulli":
            raise GenvisionError(f"this PixelCNN has {cfg.levels} levels; lossless coding of 8-bit images needs 256")
    return v, back.permute(0, 2, 3, 1).numpy()


def encode(model: PixelCNNModel, images: Tensor, given_labels: Tensor | None, *, binarize: bool,
           batch: int) -> tuple[dict, bytes]:
    """images (N, H, W, C) uint8 -> (header fields, payload)."""
    v, coded = _to_values(model, images, binarize=binarize)
    plan = label_coding.plan_labels(model, v, given_labels, v.shape[0], batch=batch)
    enc = Encoder()
    label_coding.write_labels(plan, enc)
    encode_values(model, v, enc, labels=plan.for_model, batch=batch)
    fields = {"batch": batch, "binarized": bool(binarize and not np.array_equal(coded, images.numpy())),
              "content": content_digest(coded), **label_coding.header_fields(plan)}
    return fields, enc.finish()


def decode(model: PixelCNNModel, header: dict, payload: bytes) -> tuple[np.ndarray, Tensor | None]:
    """-> (images (N, H, W, C) uint8, stored labels (N,) or None)."""
    dec = Decoder(payload)
    plan = label_coding.read_labels(header, model, dec)
    v = decode_values(model, int(header["count"]), dec, labels=plan.for_model, batch=int(header["batch"]))
    images = to_uint8(model.dist.decode(v)).permute(0, 2, 3, 1).numpy()
    if content_digest(images) != header["content"]:
        raise GenvisionError("the decoded pixels do not match the file's digest: the decoder's arithmetic "
                             "differs from the encoder's (other device or library version?)")
    return images, plan.stored


def nll_bits(model: PixelCNNModel, images: Tensor, labels: Tensor | None, *, binarize: bool = False) -> Tensor:
    """The model's exact -log2 p(x [| y]) per image (N,), one forward pass in float32: what the stream should
    cost (labels: the ones the model is conditioned on, e.g. the null label)."""
    v, _ = _to_values(model, images, binarize=binarize)
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        return -model.dist.log_prob(model.params(v, labels=labels), v).sum((1, 2)) / np.log(2)
