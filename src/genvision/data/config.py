"""Which data a run uses and how each batch is transformed: a frozen, validated config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from genvision.data.dataset import ImageDataset
from genvision.data.registry import DATASETS, load_dataset
from genvision.data.transforms import binarize_dynamic, binarize_static, dequantize_levels, quantize
from genvision.errors import GenvisionError

BINARIZE = ("none", "static", "dynamic")
BatchTransform = Callable[[Tensor, torch.Generator | None], Tensor]


@dataclass(frozen=True)
class DataConfig:
    """data: dataset name (see DATASETS); data_dir: "" = the dataset's default.
    image_size, channels: 0 = native. binarize: none | static | dynamic.
    levels: quantise to this many grey levels (0 = no quantisation). dequantize: add uniform noise of one
    bin (of `levels`, or of the 256-level uint8 grid when levels = 0).
    """

    data: str = "mnist5k"
    data_dir: str = ""
    image_size: int = 0
    channels: int = 0
    binarize: str = "none"
    levels: int = 0
    dequantize: bool = False

    def __post_init__(self) -> None:
        for key in ("image_size", "channels", "levels"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise GenvisionError(f"{key}={value!r} must be an int")
        if not isinstance(self.dequantize, bool):
            raise GenvisionError(f"dequantize={self.dequantize!r} must be a bool")
        if self.data not in DATASETS:
            raise GenvisionError(f"data={self.data!r} unknown; valid names: {', '.join(DATASETS)}")
        if self.image_size < 0:
            raise GenvisionError(f"image_size={self.image_size} must be >= 0 (0 = native)")
        if self.channels not in (0, 1, 3):
            raise GenvisionError(f"channels={self.channels} must be 0 (native), 1 or 3")
        if self.binarize not in BINARIZE:
            raise GenvisionError(f"binarize={self.binarize!r} must be one of {', '.join(BINARIZE)}")
        if self.levels == 1 or self.levels < 0 or self.levels > 65536:
            raise GenvisionError(f"levels={self.levels} must be 0 (off) or in 2..65536")
        if self.binarize != "none" and (self.levels or self.dequantize):
            raise GenvisionError(f"binarize={self.binarize!r} cannot be combined with levels or dequantize")

    def load(self, *, split: str = "train", seed: int = 0) -> ImageDataset:
        """The configured dataset's split, resized / channel-converted as configured."""
        return load_dataset(
            self.data,
            split=split,
            data_dir=self.data_dir or None,
            seed=seed,
            image_size=self.image_size or None,
            channels=self.channels or None,
        )

    def batch_transform(self) -> BatchTransform:
        """fn(x, generator) -> x: binarize, else quantize to `levels`, then dequantize.

        x: (B, C, H, W) in [-1, 1]; generator drives the random transforms (dynamic binarisation, noise).
        """
        binarize, levels, dequantize = self.binarize, self.levels, self.dequantize

        def transform(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
            if binarize == "static":
                return binarize_static(x)
            if binarize == "dynamic":
                return binarize_dynamic(x, generator=generator)
            if levels:
                x = quantize(x, levels)
            if dequantize:
                x = dequantize_levels(x, levels or 256, generator=generator)
            return x

        return transform
