"""The in-memory image dataset every loader returns, and its deterministic split."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from genvision.errors import GenvisionError


@dataclass
class ImageDataset:
    """Images held in memory as uint8, converted to float per batch.

    images: (N, C, H, W) uint8 in [0, 255]
    labels: (N,) int64, or None for unlabelled data
    num_classes: number of classes (0 when unlabelled)
    class_names: one name per class index, when the source has them
    """

    images: Tensor
    labels: Tensor | None
    num_classes: int
    name: str = ""
    class_names: list[str] | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise GenvisionError(
                f"dataset {self.name!r}: images must be uint8 (N, C, H, W), got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.labels is not None:
            if self.labels.shape != (self.images.shape[0],):
                raise GenvisionError(
                    f"dataset {self.name!r}: {self.images.shape[0]} images but labels of shape "
                    f"{tuple(self.labels.shape)}"
                )
            self.labels = self.labels.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, index: Tensor) -> ImageDataset:
        labels = None if self.labels is None else self.labels[index]
        return ImageDataset(self.images[index], labels, self.num_classes, self.name, self.class_names)

    def float_images(self, index: Tensor | slice | None = None) -> Tensor:
        """Images as float (B, C, H, W) in [-1, 1]."""
        x = self.images if index is None else self.images[index]
        return to_float(x)


def to_float(x_uint8: Tensor) -> Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return x_uint8.float().div_(127.5).sub_(1.0)


def to_uint8(x: Tensor) -> Tensor:
    """float [-1, 1] -> uint8 [0, 255] (clamped, rounded)."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def split_indices(n: int, val_count: int, seed: int) -> tuple[Tensor, Tensor]:
    """Deterministic (train, val) index split of range(n) from a seed."""
    if not 0 < val_count < n:
        raise GenvisionError(f"cannot split {n} items into a validation set of {val_count}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_count:].sort().values, perm[:val_count].sort().values
