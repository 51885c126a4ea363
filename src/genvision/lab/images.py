"""Images in and out of the lab: upscaled display arrays, and a drawing turned into a 28x28 digit."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from genvision.errors import GenvisionError
from genvision.viz.grid import make_grid

SCALE = 4  # 28x28 digits are shown at 112x112 (nearest neighbour: the pixels stay visible)


def upscale(array: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """(H, W[, 3]) -> (H * scale, W * scale[, 3]) by pixel repetition (nearest neighbour)."""
    return np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)


def show_grid(images: Tensor, *, nrow: int, scale: int = SCALE, padding: int = 2) -> np.ndarray:
    """images (N, C, H, W) in [-1, 1] -> uint8 (rows, cols, 3) grid, upscaled for the page."""
    return upscale(make_grid(images.detach().cpu(), nrow=nrow, padding=padding), scale)


def drawing_to_image(drawing, *, size: int = 28) -> Tensor:
    """A drawing from the page (a Gradio sketchpad dict with "composite", or an (H, W[, 3|4]) array) ->
    (1, 1, size, size) float in [-1, 1], white ink on black like MNIST.

    Ink is the alpha channel when the background is transparent, else darkness on a light background or
    brightness on a dark one. Raises GenvisionError for a missing or empty drawing."""
    if isinstance(drawing, dict):
        drawing = drawing.get("composite")
    if drawing is None:
        raise GenvisionError("draw a digit first (the drawing is empty)")
    arr = np.asarray(drawing, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[2] == 4 and arr[..., 3].min() < 255:
        ink = arr[..., 3] / 255.0  # strokes on a transparent layer
    else:
        gray = arr[..., :3].mean(axis=2) if arr.ndim == 3 else arr
        gray = gray / 255.0
        ink = 1.0 - gray if np.median(gray) > 0.5 else gray
    if ink.ndim != 2 or ink.max() - ink.min() < 0.1:
        raise GenvisionError("draw a digit first (the drawing is empty)")
    pil = Image.fromarray((ink.clip(0, 1) * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    small = torch.from_numpy(np.asarray(pil, dtype=np.float32) / 127.5 - 1.0)
    return small[None, None]


def check_label(label, num_classes: int) -> int:
    """A class index from the page -> int in [0, num_classes), else a one-line GenvisionError."""
    try:
        k = int(label)
    except (TypeError, ValueError):
        raise GenvisionError(f"the class must be an integer 0..{num_classes - 1}, got {label!r}") from None
    if not 0 <= k < num_classes:
        raise GenvisionError(f"class {k} is out of range: the model has classes 0..{num_classes - 1}")
    return k
