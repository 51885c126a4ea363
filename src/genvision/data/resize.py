"""Bring uint8 image batches to a requested size and channel count."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from genvision.data.dataset import ImageDataset
from genvision.errors import GenvisionError

# ITU-R 601-2 luma, the same weights as Pillow's convert("L").
_LUMA = (0.299, 0.587, 0.114)
_CHUNK = 4096  # images resized at once, to bound the float copy's memory


def resize_images(images: Tensor, size: int) -> Tensor:
    """Bilinear resize (antialiased when shrinking): (N, C, H, W) uint8 -> (N, C, size, size) uint8."""
    if size <= 0:
        raise GenvisionError(f"image_size must be positive, got {size}")
    if images.shape[-2:] == (size, size):
        return images
    chunks = [
        F.interpolate(chunk.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        .round_()
        .clamp_(0, 255)
        .to(torch.uint8)
        for chunk in images.split(_CHUNK)
    ]
    if not chunks:
        return images.new_zeros((0, images.shape[1], size, size))
    return torch.cat(chunks)


def convert_channels(images: Tensor, channels: int) -> Tensor:
    """Gray <-> RGB. images: (N, C, H, W) uint8 with C in {1, 3} -> (N, channels, H, W) uint8."""
    if channels not in (1, 3):
        raise GenvisionError(f"channels must be 1 or 3, got {channels}")
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have != 3:
        raise GenvisionError(f"cannot convert images with {have} channels to {channels}")
    weights = torch.tensor(_LUMA).view(1, 3, 1, 1)
    return (images.float() * weights).sum(1, keepdim=True).round_().clamp_(0, 255).to(torch.uint8)


def adapt(dataset: ImageDataset, *, image_size: int | None, channels: int | None) -> ImageDataset:
    """The dataset with images resized / channel-converted where asked (None = keep native)."""
    images = dataset.images
    if channels is not None and channels < images.shape[1]:
        images = convert_channels(images, channels)  # fewer channels first: less to resize
    if image_size is not None:
        images = resize_images(images, image_size)
    if channels is not None:
        images = convert_channels(images, channels)
    if images is dataset.images:
        return dataset
    return ImageDataset(images, dataset.labels, dataset.num_classes, dataset.name, dataset.class_names)
