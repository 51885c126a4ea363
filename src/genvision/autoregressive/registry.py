"""Registry entry of the autoregressive family: `pixelcnn` (arch=pixelcnn or gated)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel, check_sample_method
from genvision.config import option
from genvision.entry import BuildContext, ModelEntry
from genvision.errors import GenvisionError


@dataclass(frozen=True)
class PixelCNNSampleOptions:
    temperature: float = option(1.0, gt=0)
    method: str = option("fast", check=check_sample_method)  # fast (cached) | window | naive: identical samples
    guidance_weight: float = 0.0  # classifier-free guidance w (models trained with p_uncond > 0)
    # with guidance: rule out pixel values the conditional gives < alpha x its most likely value's probability
    # (0 = the paper's plain CFG). 0.01 removes the guidance-made lines in the empty top rows (issue 17).
    plausibility: float = option(0.01, min=0, max=1)


def _build(cfg: PixelCNNConfig, ctx: BuildContext) -> PixelCNNModel:
    """Image channels and size come from the data; so do the levels of quantised data (--levels quantises
    the data and sizes the categorical output), else the config's (256)."""
    (c, h, w), num_classes = ctx.image_shape, ctx.num_classes
    if h != w:
        raise GenvisionError(f"PixelCNN needs square images, got {h}x{w}")
    if cfg.num_classes > 0 and cfg.num_classes != num_classes:
        raise GenvisionError(f"num_classes={cfg.num_classes} but the data has {num_classes} classes")
    return PixelCNNModel(dataclasses.replace(cfg, image_channels=c, image_size=h, levels=ctx.data.levels or cfg.levels))


# 1800 steps x ~0.93 s (quiet 2-core CPU, bf16) = ~28 min: the 30-minute budget. p_uncond = 0.1 trains the null
# label for classifier-free guidance, which lifts class accuracy of samples (docs/pixelcnn.md, Sec. 7b).
_MNIST = {"arch": "gated", "hidden": 64, "layers": 7, "output": "bernoulli", "num_classes": 10, "p_uncond": 0.1,
          "position_bias": True, "binarize": "dynamic", "steps": 1800, "batch_size": 64, "lr": 1e-3,
          "warmup_steps": 100, "ema_decay": 0.999, "val_every": 600, "ckpt_every": 300, "sample_every": 900,
          "num_samples": 40}

ENTRY = ModelEntry(
    "pixelcnn", "PixelCNN / Gated PixelCNN (masked convolutions, exact likelihood, class-conditional)",
    PixelCNNConfig, _build,
    presets={
        "tiny": {"arch": "gated", "hidden": 8, "layers": 2, "first_kernel": 3, "position_bias": True,
                 "binarize": "dynamic",
                 "steps": 20, "batch_size": 16, "val_every": 0, "ckpt_every": 0, "log_every": 5,
                 "num_samples": 4, "data": "digits"},
        "mnist": _MNIST,
        "mnist-plain": {**_MNIST, "arch": "pixelcnn"},
    },
    default_preset="mnist", sample_options=PixelCNNSampleOptions,
    derived=frozenset({"image_channels", "image_size", "levels"}), figures=("completions", "receptive-field"))
