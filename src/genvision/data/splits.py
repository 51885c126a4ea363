"""Which rows of a source make up the train / val split: a deterministic holdout from a seed."""

from __future__ import annotations

import torch
from torch import Tensor

from genvision.data.dataset import split_indices
from genvision.errors import GenvisionError

SPLITS = ("train", "val", "test")


class SplitUnavailable(GenvisionError):
    """The dataset is readable but has no such split (mnist5k's test, MNIST with only the t10k files)."""


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise GenvisionError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")


def val_count(n: int, *, fixed: int | None = None, min_for_fixed: int = 50_000) -> int:
    """Validation size for n items: `fixed` when n >= min_for_fixed, else 10% (at least 1 when n >= 2)."""
    if fixed is not None and n >= min_for_fixed:
        return fixed
    return max(1, n // 10) if n >= 2 else 0


def holdout_index(n: int, split: str, *, count: int, seed: int, source: str) -> Tensor:
    """Sorted int64 indices into range(n) of the train or val part (val has `count` items)."""
    if split not in ("train", "val"):
        raise SplitUnavailable(f"{source} has only 'train' and 'val' splits, no {split!r}")
    if count == 0:
        if split == "val":
            raise SplitUnavailable(f"{source}: only {n} item(s), too few for a validation split")
        return torch.arange(n)
    train, val = split_indices(n, count, seed)
    return train if split == "train" else val
