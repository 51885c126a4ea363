"""Memory estimated before a large allocation: refuse with the figure and the limit rather than let the
allocator fail (or the machine swap) after minutes of work."""

from __future__ import annotations

import os
from collections.abc import Sequence

from genvision.errors import GenvisionError

FRACTION = 0.8  # of the memory available now that one command may plan to hold


def available_bytes() -> int | None:
    """Memory available to a new allocation now (Linux MemAvailable; else free pages), None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


def check_fits(nbytes: int, *, what: str, hint: str, available: int | None = None) -> None:
    """GenvisionError when `nbytes` exceed FRACTION of the available memory, naming both figures."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    limit = int(FRACTION * available)
    if nbytes > limit:
        raise GenvisionError(f"{what} needs about {format_bytes(nbytes)} of memory, more than the limit of "
                             f"{format_bytes(limit)} ({FRACTION:.0%} of the {format_bytes(available)} available "
                             f"now); {hint}")


def images_bytes(n: int, image_shape: Sequence[int], *, grid: bool = False) -> int:
    """What n generated images (C, H, W) hold at once: float32 in [-1, 1], their uint8 copy, and for a PNG grid
    its RGB canvas twice (numpy and Pillow). Sampling runs in batches, so its activations are not counted."""
    c, h, w = (int(v) for v in image_shape)
    per_image = 5 * c * h * w + (2 * 3 * (h + 2) * (w + 2) if grid else 0)
    return n * per_image


def check_images_fit(n: int, image_shape: Sequence[int], *, what: str, grid: bool = False,
                     available: int | None = None) -> None:
    """check_fits for n images of image_shape: `what` names the option(s) that set n (e.g. '--n=10000000')."""
    check_fits(images_bytes(n, image_shape, grid=grid), available=available,
               what=f"{what} ({n} images of {'x'.join(map(str, image_shape))})",
               hint="ask for fewer images" + (" or write an .npz instead of a PNG grid" if grid else ""))


__all__ = ["FRACTION", "available_bytes", "check_fits", "check_images_fit", "format_bytes", "images_bytes"]
