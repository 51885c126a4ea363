"""MNIST and Fashion-MNIST from their four IDX files in a folder (each optionally .gz)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
from torch import Tensor

from genvision.data.builtin import DIGIT_NAMES
from genvision.data.dataset import ImageDataset
from genvision.data.idx import read_idx_pair
from genvision.data.splits import SplitUnavailable, holdout_index, val_count
from genvision.errors import GenvisionError

# Where Debian's dataset-fashion-mnist package puts the four .gz files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip

# split -> (images file, labels file), without the optional ".gz"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
VAL_COUNT = 5_000  # held out of the 60,000 training images (10% when there are fewer than 50,000)


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4)
def _read_cached(images_key: tuple[str, int, int], labels_key: tuple[str, int, int]) -> tuple[Tensor, Tensor]:
    images, labels = read_idx_pair(images_key[0], labels_key[0])
    if labels.size and labels.max() >= 10:
        raise GenvisionError(f"{labels_key[0]}: label {int(labels.max())} outside 0..9")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype("int64"))


def idx_files(folder: Path, part: str) -> tuple[Path, Path] | None:
    """The (images, labels) files of part "train" or "test" in folder, or None when either is missing."""
    found = [_find(folder, stem) for stem in IDX_FILES[part]]
    return None if None in found else (found[0], found[1])  # type: ignore[return-value]


def load_idx_folder(
    name: str, folder: Path, split: str, seed: int, *, class_names: list[str] | None = None
) -> ImageDataset:
    """One split of an MNIST-like folder. Images (N, 1, H, W) uint8, labels (N,) int64 in 0..9.

    train/val come from the train files (val: 5,000 held out from the seed, 10% below 50,000 images);
    test is the t10k files.
    """
    if not folder.is_dir():
        raise GenvisionError(f"{name}: data folder {folder} not found")
    part = "test" if split == "test" else "train"
    files = idx_files(folder, part)
    if files is None:
        missing = ", ".join(f"{stem}[.gz]" for stem in IDX_FILES[part] if _find(folder, stem) is None)
        other, available = ("train", "'train' and 'val'") if part == "test" else ("test", "'test'")
        hint = f"; only {available} available" if idx_files(folder, other) is not None else ""
        raise SplitUnavailable(f"{name}: split {split!r} needs {missing} in {folder}, not found{hint}")
    images, labels = _read_cached(_stamp(files[0]), _stamp(files[1]))
    if split == "test":
        return ImageDataset(images.clone(), labels.clone(), 10, name, class_names)
    n = images.shape[0]
    index = holdout_index(n, split, count=val_count(n, fixed=VAL_COUNT), seed=seed, source=name)
    return ImageDataset(images[index], labels[index], 10, name, class_names)


def load_mnist(split: str, seed: int, data_dir: Path | None) -> ImageDataset:
    if data_dir is None:
        raise GenvisionError(
            "mnist needs data_dir: a folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
            "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz)"
        )
    return load_idx_folder("mnist", data_dir, split, seed, class_names=DIGIT_NAMES)


def load_fashion_mnist(split: str, seed: int, data_dir: Path | None) -> ImageDataset:
    if data_dir is None:
        if not FASHION_MNIST_DIR.is_dir():
            raise GenvisionError(
                f"fashion-mnist: default folder {FASHION_MNIST_DIR} not found; pass data_dir (a folder "
                "with the four IDX files) or install the Debian package dataset-fashion-mnist"
            )
        data_dir = FASHION_MNIST_DIR
    return load_idx_folder("fashion-mnist", data_dir, split, seed, class_names=FASHION_NAMES)
