"""The evaluation classifier: a small CNN trained by genvision per dataset.

Its penultimate features are the feature space of the distribution metrics (Frechet distance, KID,
precision/recall), standing in for Inception features, which cannot be downloaded here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.config import option
from genvision.entry import ModelEntry, build_plain
from genvision.errors import GenvisionError


@dataclass(frozen=True)
class ClassifierConfig:
    width: int = option(32, min=1)
    feature_dim: int = option(128, min=1)
    dropout: float = option(0.3, min=0, lt=1)
    augment_shift: int = option(2, min=0)  # random translation of up to this many pixels during training


def random_shift(x: Tensor, max_shift: int) -> Tensor:
    """Translate each image by up to max_shift pixels (padding with -1, the background). x: (B, C, H, W)."""
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=-1.0)
    dx = torch.randint(0, 2 * max_shift + 1, (b,))
    dy = torch.randint(0, 2 * max_shift + 1, (b,))
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)  # (B, H)
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)  # (B, W)
    idx_b = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_b, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()


class EvalClassifier(nn.Module):
    """x: (B, C, H, W) in [-1, 1] -> logits (B, num_classes); features() gives (B, feature_dim)."""

    def __init__(self, cfg: ClassifierConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise GenvisionError("the evaluation classifier needs a labelled dataset (>= 2 classes)")
        c, w = image_shape[0], cfg.width
        self.cfg = cfg
        self.num_classes_out = num_classes

        def block(i: int, o: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

        self.body = nn.Sequential(
            block(c, w),
            block(w, w),
            nn.MaxPool2d(2),
            block(w, 2 * w),
            block(2 * w, 2 * w),
            nn.MaxPool2d(2),
            block(2 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(4 * w, cfg.feature_dim),
            nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.feature_dim, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.features(x)))

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        x = batch["image"]
        if self.training:
            x = random_shift(x, self.cfg.augment_shift)
        logits = self(x)
        y = batch["label"]
        return {
            "loss": F.cross_entropy(logits.float(), y),
            "accuracy": (logits.argmax(1) == y).float().mean(),
        }


ENTRY = ModelEntry(
    name="eval-classifier",
    description="small CNN whose features score generated images (Frechet/KID/precision-recall)",
    config_cls=ClassifierConfig,
    build=build_plain(EvalClassifier),
    presets={
        "mnist": {
            "steps": 1500,
            "batch_size": 128,
            "lr": 2e-3,
            "warmup_steps": 100,
            "weight_decay": 1e-4,
            "ema_decay": 0.995,
            "val_every": 500,
            "ckpt_every": 500,
        },
        "tiny": {
            "width": 8,
            "feature_dim": 16,
            "steps": 20,
            "batch_size": 32,
            "val_every": 0,
            "ckpt_every": 0,
            "log_every": 5,
        },
    },
    default_preset="mnist",
)
