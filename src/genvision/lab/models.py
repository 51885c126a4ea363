"""Which model each tab uses: the shipped `pretrained:` models by default, replaced by run folders given on
the command line (matched by the model name in their config)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from genvision import pretrained
from genvision.errors import GenvisionError

# The registered models the tabs use (roles): a run given on the command line fills the role of its model.
ROLES = ("cfg", "ddpm", "noisy-classifier", "pixelcnn", "vqvae", "vqvae-prior", "dvae-mixture")
# role -> the shipped model of that kind (the pretrained catalog says which), unless a run is given
DEFAULTS: dict[str, str] = {role: pretrained.PREFIX + pretrained.for_model(role).name for role in ROLES}


class LabModels:
    """Models by role, loaded on first use and kept (eval mode, CPU, no gradients)."""

    def __init__(self, targets: Sequence[str | Path] = ()) -> None:
        self.targets = dict(DEFAULTS)
        self._cache: dict[str, nn.Module] = {}
        for target in targets:  # load now: a broken run folder fails at start-up with one line
            model, config = self._load(target)
            role = config.get("model")
            if role not in DEFAULTS:
                raise GenvisionError(f"{target}: a {role!r} model has no tab in the lab "
                                     f"(it takes {', '.join(DEFAULTS)})")
            self.targets[role] = str(target)
            self._cache[role] = model

    @staticmethod
    def _load(target: str | Path) -> tuple[nn.Module, dict]:
        from genvision.loading import load_model

        model, config = load_model(target)
        return model.requires_grad_(False), config

    def get(self, role: str) -> nn.Module:
        if role not in self._cache:
            self._cache[role] = self._load(self.targets[role])[0]
        return self._cache[role]

    def source(self, role: str) -> str:
        return str(self.targets[role])


def heldout_digits(n: int = 200, *, data: str = "mnist5k") -> tuple[torch.Tensor, torch.Tensor]:
    """The first n validation images (n, 1, 28, 28) in [-1, 1] and labels (n,): never seen in training."""
    from genvision.data import load_dataset

    ds = load_dataset(data, split="val")
    n = min(n, len(ds))
    return ds.float_images(slice(0, n)), ds.labels[:n]
