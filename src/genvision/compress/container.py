"""The .gv file: a small JSON header, the range-coded payload and a checksum over both.

    b"GVZ" | version (1 byte) | header length (4 bytes, little-endian) | header (UTF-8 JSON) | payload
           | SHA-256(everything before)[:16]

The header names the codec, the model (how to load it) and the SHA-256 of its weights, the image shape
(H, W, C), the count and the codec's own fields; `content` is a short digest of what was coded (pixels or
code maps), checked again after decoding. A truncated or altered file fails the checksum; a file decoded
with other weights fails the weights check; a decoder that drifted (other float arithmetic) fails the
content check: each is one GenvisionError, never wrong images.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from genvision.errors import GenvisionError

MAGIC = b"GVZ"
VERSION = 1
CHECKSUM_BYTES = 16
CONTENT_BYTES = 8


class Container(NamedTuple):
    header: dict[str, Any]
    payload: bytes


def weights_digest(model: nn.Module) -> str:
    """SHA-256 (hex) of a model's state dict: every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def content_digest(array: np.ndarray) -> str:
    """A short digest of what was coded (dtype, shape and bytes): CONTENT_BYTES of SHA-256, hex."""
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{a.dtype.str}|{a.shape}|".encode())
    h.update(a.tobytes())
    return h.hexdigest()[: 2 * CONTENT_BYTES]


def pack(container: Container) -> bytes:
    header = json.dumps(container.header, separators=(",", ":"), sort_keys=True).encode()
    body = MAGIC + bytes([VERSION]) + struct.pack("<I", len(header)) + header + container.payload
    return body + hashlib.sha256(body).digest()[:CHECKSUM_BYTES]


def unpack(data: bytes, *, name: str = "file") -> Container:
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise GenvisionError(f"{name} is not a genvision compressed file (no GVZ signature)")
    if len(data) < len(MAGIC) + 5 + CHECKSUM_BYTES:
        raise GenvisionError(f"{name} is truncated ({len(data)} bytes)")
    if data[len(MAGIC)] != VERSION:
        raise GenvisionError(f"{name} has format version {data[len(MAGIC)]}; this genvision reads version {VERSION}")
    body, checksum = data[:-CHECKSUM_BYTES], data[-CHECKSUM_BYTES:]
    if hashlib.sha256(body).digest()[:CHECKSUM_BYTES] != checksum:
        raise GenvisionError(f"{name} is damaged: its checksum does not match (truncated or altered)")
    start = len(MAGIC) + 5
    (length,) = struct.unpack("<I", body[len(MAGIC) + 1 : start])
    try:
        header = json.loads(body[start : start + length].decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise GenvisionError(f"{name} has an unreadable header") from None
    return Container(header, body[start + length :])


def write(path: str | Path, container: Container) -> int:
    """Write the file; returns its size in bytes."""
    data = pack(container)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def read(path: str | Path) -> Container:
    path = Path(path)
    if not path.is_file():
        raise GenvisionError(f"{path}: no such file")
    return unpack(path.read_bytes(), name=str(path))
