"""Samples files: images (N, H, W, C) uint8 and optional labels (N,) in an .npz (written by viz.grid).

`load_samples_npz` is the one validator of a samples file that `eval` scores: each refusal names the file, the
real problem (not a zip archive, a truncated one, a pickled array, channels-first images, a size the data set
does not have, labels out of range...) and what is accepted.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from genvision.errors import GenvisionError

FORMAT = "an .npz with 'images' uint8 (N, H, W, C) and optional 'labels' int (N,)"
_NPY_MAGIC = b"\x93NUMPY"


def is_samples_file(target: str | Path) -> bool:
    """A samples file is named *.npz, in any case (x.NPZ too)."""
    return Path(str(target)).suffix.lower() == ".npz"


def _not_an_archive(path: Path, head: bytes, size: int) -> str:
    """What a file that is no complete zip archive is, in words."""
    if size == 0:
        return "is empty (0 bytes)"
    if head.startswith(_NPY_MAGIC):
        return "is a single .npy array, not an .npz archive (save with np.savez(path, images=...))"
    if head.startswith(b"PK\x03\x04"):
        return f"is a truncated or damaged zip archive ({size} bytes, no end-of-archive record)"
    try:
        text = head.decode("utf-8")
        if all(c.isprintable() or c.isspace() for c in text):
            return f"is a text file, not an .npz archive (it starts with {text[:24]!r})"
    except UnicodeDecodeError:
        pass
    return f"is not an .npz archive (a zip of .npy arrays); it starts with bytes {head[:8].hex(' ')}"


def read_npz(path: str | Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The arrays `names` that exist in an .npz file (no pickles); a one-line GenvisionError naming the problem
    for a missing file, a folder, a file that is no zip archive, a truncated or damaged member, an object array."""
    path = Path(path)
    if not path.exists():
        raise GenvisionError(f"{path}: no such file")
    if path.is_dir():
        raise GenvisionError(f"{path} is a folder, not a samples file ({FORMAT})")
    with open(path, "rb") as f:
        head = f.read(64)
    size = path.stat().st_size
    if not zipfile.is_zipfile(path):
        raise GenvisionError(f"{path} {_not_an_archive(path, head, size)}; expected {FORMAT}")
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as f:
            files = list(f.files)
            for name in names:
                if name in files:
                    out[name] = f[name]
    except ValueError as exc:
        if "pickle" in str(exc):
            raise GenvisionError(f"{path}: an array holds Python objects (dtype object, stored as a pickle), "
                                 f"which genvision does not load; expected {FORMAT}") from None
        raise GenvisionError(f"{path}: a damaged array in the archive ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
        raise GenvisionError(f"{path}: a truncated or damaged .npz archive ({type(exc).__name__}: {exc})") from None
    if names and names[0] not in out:
        raise GenvisionError(f"{path}: no {names[0]!r} array (it holds {', '.join(map(repr, files)) or 'nothing'}); "
                             f"expected {FORMAT}")
    return out


def check_sample_images(images: np.ndarray, *, where: str, image_shape: Sequence[int] | None = None,
                        data: str = "the data set") -> None:
    """uint8 (N, H, W, C), N >= 1, C in {1, 3}, and (C, H, W) == image_shape when given."""
    if images.dtype != np.uint8:
        raise GenvisionError(f"{where}: 'images' must be uint8 (N, H, W, C) in 0..255, got dtype {images.dtype}")
    if images.ndim != 4:
        raise GenvisionError(f"{where}: 'images' must be (N, H, W, C), got {images.ndim} dimensions {images.shape}")
    n, h, w, c = images.shape
    if n == 0:
        raise GenvisionError(f"{where}: 'images' holds no image (shape {images.shape})")
    if c not in (1, 3) and images.shape[1] in (1, 3):
        raise GenvisionError(f"{where}: 'images' {images.shape} looks channels-first (N, C, H, W); "
                             "store (N, H, W, C), e.g. images.transpose(0, 2, 3, 1)")
    if c not in (1, 3):
        raise GenvisionError(f"{where}: 'images' must have 1 or 3 channels last (N, H, W, C), got {images.shape}")
    if image_shape is not None:
        want_c, want_h, want_w = (int(v) for v in image_shape)
        if (h, w) != (want_h, want_w):
            raise GenvisionError(f"{where}: images of {h}x{w} pixels, but {data} has {want_h}x{want_w}; "
                                 "resize them or pass --data for a data set of that size")
        if c != want_c:
            raise GenvisionError(f"{where}: images with {c} channel(s), but {data} has {want_c} "
                                 f"({'RGB' if want_c == 3 else 'grey'}); convert them or pass --data")


def check_sample_labels(labels: np.ndarray, n: int, *, where: str, num_classes: int | None = None,
                        data: str = "the data set") -> None:
    """Integer labels (N,) in 0..num_classes-1 (floats, booleans and strings are refused, not truncated)."""
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.integer):
        raise GenvisionError(f"{where}: 'labels' must be integers, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise GenvisionError(f"{where}: {n} images but 'labels' of shape {labels.shape}; expected ({n},)")
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise GenvisionError(f"{where}: 'labels' must be >= 0, got {low}")
    if num_classes is not None and high >= num_classes:
        raise GenvisionError(f"{where}: label {high} is out of range: {data} has classes 0..{num_classes - 1}")


def load_samples_npz(path: str | Path, *, image_shape: Sequence[int] | None = None, num_classes: int | None = None,
                     data: str = "the data set") -> tuple[Tensor, Tensor | None]:
    """images (N, H, W, C) uint8 -> float (N, C, H, W) in [-1, 1]; labels (N,) int64 if present.

    image_shape (C, H, W) and num_classes: those of the data set the samples are scored against (`data` names
    it in messages); every check is one line naming the file."""
    arrays = read_npz(path, ("images", "labels"))
    images, labels = arrays["images"], arrays.get("labels")
    check_sample_images(images, where=str(path), image_shape=image_shape, data=data)
    if labels is not None:
        check_sample_labels(labels, len(images), where=str(path), num_classes=num_classes, data=data)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    y = None if labels is None else torch.from_numpy(labels.astype(np.int64))
    return x, y
