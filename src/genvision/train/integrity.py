"""What makes a checkpoint trustworthy: a content hash, finite weights, and tensors that fit the model.

The hash covers every tensor (name, dtype, shape, bytes) and every metadata entry except the hash itself, so
one flipped bit anywhere in a safetensors file either breaks its parsing or changes the digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import torch
from torch import Tensor

from genvision.errors import GenvisionError

HASH_KEY = "sha256"


def _raw_bytes(t: Tensor) -> memoryview:
    """The tensor's bytes in memory order (any dtype, 0-dim included), without a copy when contiguous."""
    flat = t.detach().to("cpu").contiguous().reshape(-1)
    return memoryview(flat.view(torch.uint8).numpy())


def content_hash(tensors: Mapping[str, Tensor], metadata: Mapping[str, str]) -> str:
    """SHA-256 hex digest of a checkpoint's tensors and metadata (the entry HASH_KEY itself excluded).

    Tensors are hashed in name order as a JSON line [name, dtype, shape] followed by their raw bytes; the
    line fixes how many bytes follow, so the stream is unambiguous.
    """
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in metadata.items() if k != HASH_KEY}, sort_keys=True).encode())
    for name in sorted(tensors):
        t = tensors[name]
        h.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode() + b"\n")
        h.update(_raw_bytes(t))
    return h.hexdigest()


def file_sha256(path) -> str:
    """SHA-256 of a whole file's bytes (the shipped weights record theirs in NAME.json)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def first_non_finite(tensors: Mapping[str, Tensor]) -> str | None:
    """The name of the first floating tensor (in name order) holding a NaN or an inf, else None."""
    for name in sorted(tensors):
        t = tensors[name]
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return name
    return None


def match_state_dict(weights: Mapping[str, Tensor], reference: Mapping[str, Tensor], *, where: str
                     ) -> dict[str, Tensor]:
    """`weights` checked against a model's state_dict: the same keys, the same shapes, and a dtype of the same
    kind (a float may be stored in another float width, as the fp16 shipped weights are; it is cast back).

    Raises a one-line GenvisionError naming the first offending tensor.
    """
    missing = sorted(set(reference) - set(weights))
    unexpected = sorted(set(weights) - set(reference))
    if missing:
        raise GenvisionError(f"{where}: tensor {missing[0]!r} of the model is missing "
                             f"({len(missing)} missing in all)")
    if unexpected:
        raise GenvisionError(f"{where}: tensor {unexpected[0]!r} does not belong to the model "
                             f"({len(unexpected)} unexpected in all)")
    out: dict[str, Tensor] = {}
    for name, ref in reference.items():
        value = weights[name]
        if tuple(value.shape) != tuple(ref.shape):
            raise GenvisionError(f"{where}: tensor {name!r} has shape {tuple(value.shape)}, "
                                 f"the model expects {tuple(ref.shape)}")
        if value.dtype != ref.dtype and not (value.is_floating_point() and ref.is_floating_point()):
            raise GenvisionError(f"{where}: tensor {name!r} has dtype {value.dtype}, the model expects {ref.dtype}")
        out[name] = value.to(ref.dtype)
    return out
