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


def balanced_subset(n: int, count: int, *, labels: Tensor | None = None, seed: int = 0) -> Tensor:
    """`count` indices into range(n) (all n when count >= n): a seeded shuffle, and with labels (n,) the classes
    take turns (each class's items in shuffled order, interleaved), so a subset of a split sorted by label still
    holds every class, min(count, its size) // classes or one more of each. The order is the interleaving, so
    every batch cut from the front is balanced too."""
    if count >= n:
        return torch.arange(n)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    if labels is None:
        return perm[:count]
    shuffled = labels[perm]
    rank = torch.empty(n, dtype=torch.long)  # position of each item among its class, in shuffled order
    for c in shuffled.unique():
        where = (shuffled == c).nonzero().squeeze(1)
        rank[where] = torch.arange(len(where))
    return perm[torch.sort(rank, stable=True).indices[:count]]
