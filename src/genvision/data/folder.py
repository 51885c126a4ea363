"""A folder of PNG/JPEG images: one subfolder per class (labels = sorted names) or flat (no labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genvision.data.dataset import ImageDataset
from genvision.data.splits import holdout_index, val_count
from genvision.errors import GenvisionError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
GRAY_MODES = ("1", "L", "LA")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def scan_folder(folder: Path) -> tuple[list[Path], list[int] | None, list[str] | None]:
    """(files, labels or None, class names or None) in a fixed order: class by class, names sorted."""
    if not folder.is_dir():
        raise GenvisionError(f"image folder {folder} not found")
    class_dirs, loose = _visible_dirs(folder), _images_in(folder)
    if not class_dirs:
        if not loose:
            raise GenvisionError(f"{folder}: no PNG/JPEG images found")
        return loose, None, None
    if loose:
        raise GenvisionError(
            f"{folder}: mixes loose images ({loose[0].name}, ...) with class subfolders; use one layout"
        )
    files: list[Path] = []
    labels: list[int] = []
    for index, class_dir in enumerate(class_dirs):
        members = _images_in(class_dir)
        if not members:
            raise GenvisionError(f"{class_dir}: class folder without PNG/JPEG images")
        files += members
        labels += [index] * len(members)
    return files, labels, [d.name for d in class_dirs]


def _header(path: Path) -> tuple[str, tuple[int, int]]:
    """(Pillow mode, (width, height)) read from the file header, without decoding the pixels."""
    try:
        with Image.open(path) as img:
            return img.mode, img.size
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise GenvisionError(f"{path}: unreadable image ({e})") from e


def _decode(path: Path, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8."""
    try:
        with Image.open(path) as img:
            img = img.convert(mode)
            if size is not None and img.size != size:
                img = img.resize(size, Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise GenvisionError(f"{path}: unreadable image ({e})") from e


def load_folder(
    split: str,
    seed: int,
    data_dir: Path | None,
    *,
    image_size: int | None = None,
    channels: int | None = None,
) -> ImageDataset:
    """train/val (10% from the seed, at least 1 image) of an image folder. Images (N, C, H, W) uint8.

    image_size: resize (bilinear) to image_size x image_size; default the first image's size, and
        then every image must have that size.
    channels: 1 (gray) or 3 (RGB); default 1 when every image is grayscale, else 3.
    """
    if data_dir is None:
        raise GenvisionError(
            "folder needs data_dir: a folder of PNG/JPEG images (optionally one subfolder per class)"
        )
    files, labels, class_names = scan_folder(data_dir)
    headers = [_header(f) for f in files]
    if image_size is not None:
        if image_size <= 0:
            raise GenvisionError(f"image_size must be positive, got {image_size}")
        size = (image_size, image_size)
    else:
        size = headers[0][1]
        for path, (_, other) in zip(files, headers, strict=True):
            if other != size:
                raise GenvisionError(
                    f"{path}: size {other[0]}x{other[1]} differs from {files[0]}'s {size[0]}x{size[1]}; "
                    "pass image_size to resize them all"
                )
    if channels is None:
        channels = 1 if all(mode in GRAY_MODES for mode, _ in headers) else 3
    elif channels not in (1, 3):
        raise GenvisionError(f"channels must be 1 or 3, got {channels}")
    index = holdout_index(
        len(files), split, count=val_count(len(files)), seed=seed, source=f"folder {data_dir}"
    )
    pixels = [_decode(files[i], "L" if channels == 1 else "RGB", size) for i in index.tolist()]
    images = np.stack(pixels)
    images = images[:, None] if channels == 1 else images.transpose(0, 3, 1, 2)
    label_tensor = None if labels is None else torch.tensor(labels, dtype=torch.int64)[index]
    num_classes = 0 if class_names is None else len(class_names)
    return ImageDataset(
        torch.from_numpy(np.ascontiguousarray(images)), label_tensor, num_classes, "folder", class_names
    )
