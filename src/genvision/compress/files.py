"""What compress reads and decompress writes: an .npz samples file (images (N, H, W, C) uint8 [+ labels (N,)],
as `genvision sample --out X.npz` writes) or PNG files / folders of PNGs (grey -> C=1, colour -> C=3)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from genvision.errors import GenvisionError


class ImageSet(NamedTuple):
    images: np.ndarray  # (N, H, W, C) uint8
    labels: np.ndarray | None  # (N,) int64
    names: list[str] | None  # PNG file names, to write them back under the same names


def _read_npz(path: Path) -> ImageSet:
    try:
        with np.load(path, allow_pickle=False) as data:
            if "images" not in data:
                raise GenvisionError(f"{path}: no 'images' array (expected (N, H, W, C) uint8)")
            images, labels = data["images"], data["labels"] if "labels" in data else None
    except (OSError, ValueError) as exc:
        raise GenvisionError(f"{path}: cannot read the .npz file ({exc})") from None
    if images.dtype != np.uint8 or images.ndim != 4:
        raise GenvisionError(f"{path}: images must be (N, H, W, C) uint8, got {images.dtype} {images.shape}")
    if labels is not None and labels.shape != images.shape[:1]:
        raise GenvisionError(f"{path}: labels must be ({len(images)},), got {labels.shape}")
    return ImageSet(images, None if labels is None else labels.astype(np.int64), None)


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            grey = img.mode in ("1", "L", "LA", "I", "I;16", "F")
            arr = np.asarray(img.convert("L" if grey else "RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise GenvisionError(f"{path}: cannot read the image ({exc})") from None
    return arr[:, :, None] if arr.ndim == 2 else arr


def read_images(sources: list[str]) -> ImageSet:
    """One .npz file, or any number of PNG files and folders (their *.png, sorted by name)."""
    if not sources:
        raise GenvisionError("no input: give an .npz file, PNG files or folders of PNGs")
    paths = [Path(s) for s in sources]
    if any(p.suffix == ".npz" for p in paths):
        if len(paths) > 1:
            raise GenvisionError("give one .npz file, or PNG files and folders, not both")
        if not paths[0].is_file():
            raise GenvisionError(f"{paths[0]}: no such file")
        return _read_npz(paths[0])
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.glob("*.png"))
        elif p.is_file():
            files.append(p)
        else:
            raise GenvisionError(f"{p}: no such file or folder")
    if not files:
        raise GenvisionError(f"no PNG files in {', '.join(sources)}")
    arrays = [_read_png(f) for f in files]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise GenvisionError(f"the images differ in shape ({', '.join(sorted('x'.join(map(str, s)) for s in shapes))}):"
                             " compress codes a batch of equal-sized images")
    names = [f.name for f in files]
    return ImageSet(np.stack(arrays), None, names if len(set(names)) == len(names) else None)


def write_images(images: ImageSet, out: str) -> Path:
    """out.npz: images (+ labels); otherwise a folder of PNGs (the original names when known, else 00000.png...),
    plus labels.txt ("name label" lines) when there are labels."""
    from PIL import Image

    path = Path(out)
    if path.suffix.lower() == ".npz":
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"images": images.images}
        if images.labels is not None:
            payload["labels"] = images.labels
        with open(path, "wb") as f:  # a file object: numpy would append .npz to a name ending in .NPZ
            np.savez_compressed(f, **payload)
        return path
    if path.exists() and not path.is_dir():
        raise GenvisionError(f"--out {path} exists and is not a folder (give a folder or a .npz file)")
    path.mkdir(parents=True, exist_ok=True)
    names = images.names or [f"{i:05d}.png" for i in range(len(images.images))]
    for name, img in zip(names, images.images, strict=True):
        Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img).save(path / Path(name).name)
    if images.labels is not None:
        (path / "labels.txt").write_text("".join(f"{n} {int(y)}\n" for n, y in zip(names, images.labels, strict=True)))
    return path
