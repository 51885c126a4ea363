"""Coding values with an autoregressive model: the PixelCNN's own sampling loop, with the value of every pixel
coded (encoder) or decoded (decoder) instead of drawn.

Both sides call `PixelCNNModel.fill_with` on the same batches (`batch` images at a time, in file order), from
the same empty start, in float32 with autocast off: pixel (i, j) sees the same network input on both sides,
so the cached stepper computes bit-identical probabilities, and the range coder quantises them identically.
(A full forward pass would give the same numbers only up to the last float bits, which is not enough: one
flipped quantised probability desynchronises the whole stream.) Cost of a pixel: -log2 p(x_ij | x_<ij), so
the stream is -log2 p(x) = sum_ij -log2 p(x_ij | x_<ij) bits (Eq. 1, van den Oord et al. 2016a) plus the
coder's few bits of termination.
"""

from __future__ import annotations

import torch
from torch import Tensor

from genvision.autoregressive.model import PixelCNNModel
from genvision.autoregressive.sampling import Site
from genvision.compress.coder import Decoder, Encoder
from genvision.errors import GenvisionError


def _empty(model: PixelCNNModel, n: int) -> Tensor:
    cfg = model.config
    return torch.zeros(n, cfg.image_channels, cfg.image_size, cfg.image_size)


def _chunks(n: int, batch: int) -> list[slice]:
    return [slice(s, min(n, s + batch)) for s in range(0, n, batch)]


def encode_values(model: PixelCNNModel, v: Tensor, enc: Encoder, *, labels: Tensor | None, batch: int) -> None:
    """Code values v (N, C, H, W) (the model's domain, e.g. {0, 1} or levels) pixel by pixel into enc."""
    dist = model.dist
    with torch.autocast("cpu", enabled=False):
        for part in _chunks(v.shape[0], batch):
            known = dist.to_symbols(v[part])

            def code(params: Tensor, pixel: Tensor, site: Site, known: Tensor = known) -> Tensor:
                symbols = known[:, site.step, site.i, site.j]
                enc.categorical(symbols, dist.pmf(params.float(), pixel, site.step))
                out = pixel.clone()
                out[:, site.step] = dist.from_symbols(symbols)
                return out

            filled = model.fill_with(_empty(model, known.shape[0]), code,
                                     labels=None if labels is None else labels[part])
            if not torch.equal(dist.to_symbols(filled), known):  # the loop must hand back what it coded
                raise GenvisionError("internal: the coding loop changed the values it coded")


def decode_values(model: PixelCNNModel, n: int, dec: Decoder, *, labels: Tensor | None, batch: int) -> Tensor:
    """The inverse of encode_values: n value maps (n, C, H, W) read from dec."""
    dist = model.dist
    out = []
    with torch.autocast("cpu", enabled=False):
        for part in _chunks(n, batch):

            def decode(params: Tensor, pixel: Tensor, site: Site) -> Tensor:
                symbols = torch.from_numpy(dec.categorical(dist.pmf(params.float(), pixel, site.step)))
                new = pixel.clone()
                new[:, site.step] = dist.from_symbols(symbols)
                return new

            count = part.stop - part.start
            out.append(model.fill_with(_empty(model, count), decode,
                                       labels=None if labels is None else labels[part]))
    return torch.cat(out) if out else _empty(model, 0)


def best_labels(model: PixelCNNModel, v: Tensor, *, batch: int) -> Tensor:
    """argmin_y -log p(v | y) per image (N,) (a two-part code: the label costs log2(classes) bits more)."""
    classes = model.num_classes
    best = []
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        for part in _chunks(v.shape[0], batch):
            chunk = v[part]
            nll = torch.stack([
                -model.dist.log_prob(model.params(chunk, labels=torch.full((chunk.shape[0],), y)), chunk).sum((1, 2))
                for y in range(classes)], 1)
            best.append(nll.argmin(1))
    return torch.cat(best) if best else torch.zeros(0, dtype=torch.long)
