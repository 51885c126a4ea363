"""CIFAR-10 from the "python version" folder: pickled batches read with a restricted unpickler.

A pickle can run any callable it names, so a file from elsewhere is loaded by an unpickler that
only resolves the globals needed to rebuild dicts, lists, strings, bytes, ints and uint8 numpy
arrays; any other global (os.system, builtins.eval, ...) is refused before it is called.
"""

from __future__ import annotations

import codecs
import importlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genvision.data.dataset import ImageDataset
from genvision.data.splits import SplitUnavailable, holdout_index, val_count
from genvision.errors import GenvisionError

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
VAL_COUNT = 5_000  # held out of the 50,000 training images (10% when there are fewer than 50,000)
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _safe_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object dtype refused")
    return dtype


def _numpy_global(module: str, name: str) -> Callable[..., Any]:
    # Pickles written by numpy 1.x name numpy.core.*, by numpy 2.x numpy._core.*: resolve to what exists.
    for candidate in (
        module.replace("numpy.core", "numpy._core"),
        module.replace("numpy._core", "numpy.core"),
    ):
        try:
            return getattr(importlib.import_module(candidate), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"{module}.{name} not available")


_BUILTINS = {"dict": dict, "list": list, "str": str, "bytes": bytes, "int": int}
_NUMPY = {
    ("numpy.core.multiarray", "_reconstruct"),  # protocols 2-4: ndarray via _reconstruct + __setstate__
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),  # protocol 5: ndarray from a pickle buffer
    ("numpy._core.numeric", "_frombuffer"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only builtins dict/list/str/bytes/int, numpy.ndarray, numpy.dtype (no object dtype), the
    numpy array reconstructors, and _codecs.encode (how Python 3 writes bytes at protocol 2)."""

    def find_class(self, module: str, name: str) -> Any:
        if module in ("builtins", "__builtin__") and name in _BUILTINS:
            return _BUILTINS[name]
        if module == "numpy" and name == "ndarray":
            return np.ndarray
        if module == "numpy" and name == "dtype":
            return _safe_dtype
        if (module, name) in _NUMPY:
            return _numpy_global(module, name)
        if module == "_codecs" and name == "encode":
            return codecs.encode
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")


def safe_unpickle(path: Path) -> Any:
    """Load a pickle with RestrictedUnpickler (bytes stay bytes, as CIFAR's Python 2 files need)."""
    if not path.is_file():
        raise GenvisionError(f"{path}: file not found")
    try:
        with path.open("rb") as f:
            return RestrictedUnpickler(f, encoding="bytes").load()
    except pickle.PickleError as e:
        raise GenvisionError(f"{path}: refused or invalid pickle ({e})") from e
    except (EOFError, ValueError, TypeError, OSError, IndexError, KeyError, AttributeError) as e:
        raise GenvisionError(f"{path}: cannot read pickle ({type(e).__name__}: {e})") from e


def _get(batch: dict, key: str) -> Any:
    for k in (key.encode(), key):
        if k in batch:
            return batch[k]
    return None


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR batch: images (N, 3, 32, 32) uint8 and labels (N,) int64 in 0..9."""
    batch = safe_unpickle(path)
    if not isinstance(batch, dict):
        raise GenvisionError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    data, labels = _get(batch, "data"), _get(batch, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        what = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise GenvisionError(f"{path}: b'data' must be a uint8 array (N, 3072), got {what}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise GenvisionError(f"{path}: b'labels' must be a list of ints ({e})") from e
    if labels.shape != (data.shape[0],):
        raise GenvisionError(f"{path}: {data.shape[0]} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= 10):
        raise GenvisionError(f"{path}: labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def _class_names(folder: Path) -> list[str]:
    if not (folder / META).is_file():
        return CIFAR10_NAMES
    meta = safe_unpickle(folder / META)
    names = _get(meta, "label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or len(names) != 10:
        raise GenvisionError(f"{folder / META}: expected b'label_names', a list of 10 names")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def load_cifar10(split: str, seed: int, data_dir: Path | None) -> ImageDataset:
    """CIFAR-10: train/val from data_batch_1..5 (val: 5,000 from the seed, 10% when smaller), test from
    test_batch. Images (N, 3, 32, 32) uint8, labels (N,) int64."""
    if data_dir is None:
        raise GenvisionError("cifar10 needs data_dir: the cifar-10-batches-py folder")
    if not data_dir.is_dir():
        raise GenvisionError(f"cifar10: data folder {data_dir} not found")
    names = [TEST_BATCH] if split == "test" else list(TRAIN_BATCHES)
    missing = [n for n in names if not (data_dir / n).is_file()]
    if missing:
        raise SplitUnavailable(
            f"cifar10: split {split!r} needs {', '.join(missing)} in {data_dir}, not found"
        )
    parts = [read_batch(data_dir / n) for n in names]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    class_names = _class_names(data_dir)
    if split != "test":
        n = images.shape[0]
        index = holdout_index(n, split, count=val_count(n, fixed=VAL_COUNT), seed=seed, source="cifar10")
        images, labels = images[index], labels[index]
    return ImageDataset(images.contiguous(), labels, 10, "cifar10", class_names)
