"""IDX files (the MNIST format): a big-endian header, then the raw array.

Header: two zero bytes, one type byte (0x08 = uint8, ...), one byte with the number of dimensions,
then one big-endian uint32 per dimension. MNIST images are 0x00000803 (uint8, 3 dims: N, H, W) and
labels 0x00000801 (uint8, 1 dim: N). A path ending in ".gz" is read and written gzip-compressed.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import numpy as np
from torch import Tensor

from genvision.errors import GenvisionError

# IDX type byte -> numpy dtype (multi-byte types are big-endian in the file).
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {
    dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype: code for code, dtype in _DTYPES.items()
}

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise GenvisionError(f"{path}: IDX file not found")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as e:
        raise GenvisionError(f"{path}: cannot read IDX file ({e})") from e


def read_idx(path: str | Path, *, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally .gz) into a native-endian numpy array.

    magic: when given, the expected 4-byte magic number (e.g. IMAGES_MAGIC); anything else is an error.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise GenvisionError(f"{path}: truncated IDX file ({len(data)} bytes, no 4-byte magic number)")
    (found,) = struct.unpack(">I", data[:4])
    type_code, ndim = (found >> 8) & 0xFF, found & 0xFF
    if magic is not None and found != magic:
        raise GenvisionError(f"{path}: wrong IDX magic number 0x{found:08x}, expected 0x{magic:08x}")
    if found >> 16 != 0 or type_code not in _DTYPES:
        raise GenvisionError(f"{path}: not an IDX file (magic number 0x{found:08x})")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise GenvisionError(f"{path}: truncated IDX file (header of {ndim} dims needs {header_size} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = _DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no int64 wrap-around on a forged header
    found_size = len(data) - header_size
    if found_size != expected:
        what = "truncated IDX file" if found_size < expected else "IDX file longer than its header says"
        raise GenvisionError(
            f"{path}: {what}: header shape {tuple(shape)} needs {expected} data bytes, found {found_size}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path: str | Path, array: np.ndarray | Tensor) -> Path:
    """Write `array` (uint8, int8, int16, int32, float32 or float64; 1..255 dims) as an IDX file.

    A path ending in ".gz" is gzip-compressed. Returns the path.
    """
    path = Path(path)
    array = np.ascontiguousarray(array.numpy() if isinstance(array, Tensor) else array)
    native = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if native not in _TYPE_CODES:
        raise GenvisionError(f"{path}: cannot write dtype {array.dtype} as IDX")
    if not 1 <= array.ndim <= 255:
        raise GenvisionError(f"{path}: cannot write a {array.ndim}-dim array as IDX")
    code = _TYPE_CODES[native]
    header = struct.pack(f">I{array.ndim}I", (code << 8) | array.ndim, *array.shape)
    payload = header + array.astype(_DTYPES[code], copy=False).tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


def read_idx_images(path: str | Path) -> np.ndarray:
    """MNIST-style images: (N, H, W) uint8, with N, H and W at least 1."""
    images = read_idx(path, magic=IMAGES_MAGIC)
    n, h, w = images.shape
    if h < 1 or w < 1:
        raise GenvisionError(f"{path}: the IDX header declares images of {h}x{w} pixels; images need at least 1x1")
    if n < 1:
        raise GenvisionError(f"{path}: the IDX file holds no images (header shape {images.shape})")
    return images


def read_idx_labels(path: str | Path) -> np.ndarray:
    """MNIST-style labels: (N,) uint8."""
    return read_idx(path, magic=LABELS_MAGIC)


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) uint8 and labels (N,) uint8 from two IDX files that must agree on N."""
    images, labels = read_idx_images(images_path), read_idx_labels(labels_path)
    if images.shape[0] != labels.shape[0]:
        raise GenvisionError(
            f"{labels_path}: {labels.shape[0]} labels but {images_path} has {images.shape[0]} images"
        )
    return images, labels
