"""Salt: isolated bright pixels on a dark background, the artefact of issue 14 in diffusion samples.

A pixel is *salt* when it is on (> ``on``) and all 8 neighbours are clearly off (< ``off``); outside the
image counts as off. Real MNIST digits are strokes several pixels wide, so they have (almost) none. The
defaults, on = off = -0.75 (12.5% grey, 32/255), count the dim single-pixel specks that are visible on black;
on = 0, off = -0.5 counts only bright ones.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

ON, OFF = -0.75, -0.75


class Salt(NamedTuple):
    """per_image: (N,) salt pixels of each image; per_100: salt pixels per 100 images; images: the fraction
    of images with at least one; fraction: salt pixels / on pixels over the whole set."""

    per_image: Tensor
    per_100: float
    images: float
    fraction: float


def isolated_on_pixels(images: Tensor, *, on: float = ON, off: float = OFF) -> Tensor:
    """(N, 1, H, W) bool: on pixels whose 8 neighbours are all below ``off``. images: (N, 1, H, W) in [-1, 1]."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"salt is defined for (N, 1, H, W) grey images, got {tuple(images.shape)}")
    x = F.pad(images.float(), (1, 1, 1, 1), value=-1.0)
    patches = F.unfold(x, 3)  # (N, 9, H*W): the 3x3 neighbourhood of every pixel, centre at index 4
    neighbours = torch.cat([patches[:, :4], patches[:, 5:]], dim=1).amax(dim=1)
    isolated = (images.flatten(1) > on) & (neighbours < off)
    return isolated.reshape(images.shape)


def salt(images: Tensor, *, on: float = ON, off: float = OFF) -> Salt:
    """The salt statistic of a set of images (N, 1, H, W) in [-1, 1]."""
    per_image = isolated_on_pixels(images, on=on, off=off).flatten(1).sum(1)
    on_pixels = int((images > on).sum())
    return Salt(per_image, 100.0 * float(per_image.float().mean()), float((per_image > 0).float().mean()),
                float(per_image.sum()) / max(on_pixels, 1))
