"""Tiny models for trainer tests (no BatchNorm, so DDP and single-process runs match exactly)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TinyClassifier(nn.Module):
    """Deterministic: loss depends only on the batch."""

    def __init__(self, in_dim: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_dim, 32), nn.Tanh(), nn.Linear(32, classes))

    def loss(self, batch):
        logits = self.net(batch["image"])
        return {"loss": F.cross_entropy(logits, batch["label"]),
                "accuracy": (logits.argmax(1) == batch["label"]).float().mean()}


class NoisyAutoencoder(nn.Module):
    """Uses the global RNG inside loss(), like a diffusion model, to test RNG restore on resume."""

    def __init__(self, in_dim: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_dim, 16), nn.Tanh(), nn.Linear(16, in_dim))

    def loss(self, batch):
        x = batch["image"]
        noisy = x + 0.3 * torch.randn_like(x)
        return {"loss": (self.net(noisy) - x.flatten(1)).pow(2).mean()}
