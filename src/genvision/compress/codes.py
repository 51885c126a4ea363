"""Lossy coding through a tokenizer (VQ-VAE, token dVAE): each image becomes its (h, w) code map, coded with
the learned PixelCNN prior over code maps (-log2 p(z [| y]) bits) or with a uniform code (h w log2 K bits);
decompressing decodes the map, so the output is the tokenizer's reconstruction."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from genvision.compress import labels as label_coding
from genvision.compress.autoregressive import decode_values, encode_values
from genvision.compress.coder import Decoder, Encoder
from genvision.compress.container import content_digest
from genvision.data.dataset import to_uint8
from genvision.errors import GenvisionError
from genvision.protocols import CodeMapModel, Tokenizer

PRIORS = ("learned", "uniform")


def parts(model: nn.Module) -> tuple[nn.Module, nn.Module | None]:
    """(tokenizer, PixelCNN prior over its codes or None) of a prior model (CodeMapPrior) or a tokenizer."""
    if isinstance(model, CodeMapModel):
        return model.tokenizer, model.pixelcnn
    if isinstance(model, Tokenizer):
        return model, None
    raise GenvisionError(f"{type(model).__name__} neither tokenizes images nor models code maps")


def num_codes(tokenizer: Tokenizer) -> int:
    return int(tokenizer.num_codes)


def encode_maps(model: nn.Module, images: Tensor) -> Tensor:
    """images (N, H, W, C) uint8 -> code maps (N, h, w) int64, float32 without autocast."""
    tokenizer, _ = parts(model)
    x = images.permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        return tokenizer.encode_indices(x)


def decode_maps(model: nn.Module, maps: Tensor) -> np.ndarray:
    """code maps (N, h, w) -> the tokenizer's reconstructions (N, H, W, C) uint8."""
    tokenizer, _ = parts(model)
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        return to_uint8(tokenizer.decode_indices(maps)).permute(0, 2, 3, 1).numpy()


def _prior(model: nn.Module, prior: str) -> nn.Module | None:
    if prior not in PRIORS:
        raise GenvisionError(f"--prior must be one of {', '.join(PRIORS)}, got {prior!r}")
    _, pixelcnn = parts(model)
    if prior == "learned" and pixelcnn is None:
        raise GenvisionError("this tokenizer has no learned prior: pass its prior model, or --prior=uniform")
    return pixelcnn if prior == "learned" else None


def encode(model: nn.Module, images: Tensor, given_labels: Tensor | None, *, prior: str, batch: int
           ) -> tuple[dict, bytes]:
    pixelcnn = _prior(model, prior)
    maps = encode_maps(model, images)
    k = num_codes(parts(model)[0])
    values = maps.unsqueeze(1).float()
    plan = label_coding.plan_labels(pixelcnn, values, given_labels, maps.shape[0], batch=batch)
    enc = Encoder()
    label_coding.write_labels(plan, enc)
    if pixelcnn is None:
        enc.uniform(maps.flatten(), k)
    else:
        encode_values(pixelcnn, values, enc, labels=plan.for_model, batch=batch)
    fields = {"prior": prior, "num_codes": k, "code_shape": list(maps.shape[1:]), "batch": batch,
              "content": content_digest(maps.numpy().astype(np.uint16)), **label_coding.header_fields(plan)}
    return fields, enc.finish()


def decode_codes(model: nn.Module, header: dict, payload: bytes) -> tuple[Tensor, Tensor | None]:
    """-> (code maps (N, h, w) int64, stored labels or None)."""
    pixelcnn = _prior(model, header["prior"])
    n, (h, w), k = int(header["count"]), header["code_shape"], int(header["num_codes"])
    dec = Decoder(payload)
    plan = label_coding.read_labels(header, pixelcnn, dec)
    if pixelcnn is None:
        maps = torch.from_numpy(dec.uniform(n * h * w, k)).view(n, h, w)
    else:
        maps = decode_values(pixelcnn, n, dec, labels=plan.for_model, batch=int(header["batch"]))[:, 0].long()
    if content_digest(maps.numpy().astype(np.uint16)) != header["content"]:
        raise GenvisionError("the decoded code maps do not match the file's digest: the decoder's arithmetic "
                             "differs from the encoder's (other device or library version?)")
    return maps, plan.stored


def decode(model: nn.Module, header: dict, payload: bytes) -> tuple[np.ndarray, Tensor | None]:
    maps, labels = decode_codes(model, header, payload)
    return decode_maps(model, maps), labels


def prior_bits(model: nn.Module, maps: Tensor, labels: Tensor | None) -> Tensor:
    """-log2 p(z [| y]) per code map (N,) under the learned prior, one forward pass (what the stream should
    cost); a tokenizer alone: h w log2 K."""
    _, pixelcnn = parts(model)
    if pixelcnn is None:
        return torch.full((maps.shape[0],), maps[0].numel() * math.log2(num_codes(model)))
    with torch.no_grad(), torch.autocast("cpu", enabled=False):
        return -pixelcnn.log_prob({"indices": maps}, labels=labels) / math.log(2)
