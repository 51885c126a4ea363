"""Capabilities a model may have, as runtime-checkable Protocols: eval, report, the commands and the trainer
dispatch on these (`isinstance(model, Likelihood)`), never on a model's name.

A leaf module: it imports nothing from genvision, so every layer can use it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Sampler(Protocol):
    """Generates images. num_classes: how many labels `sample` accepts (0: unconditional)."""

    num_classes: int

    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               **options) -> Tensor:
        """(n, C, H, W) in [-1, 1]; labels (n,) int64 or None."""
        ...


@runtime_checkable
class Tokenizer(Protocol):
    """Images to code maps and back (VQ-VAE codes, dVAE tokens)."""

    num_codes: int

    def encode_indices(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> (B, h, w) int64 in [0, num_codes)."""
        ...

    def decode_indices(self, indices: Tensor) -> Tensor:
        """(B, h, w) int64 -> (B, C, H, W) in [-1, 1]."""
        ...


@runtime_checkable
class Likelihood(Protocol):
    """-log p(x) (exact or a bound) in nats per image."""

    def nll(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> (B,) nats."""
        ...


@runtime_checkable
class Clusterer(Protocol):
    """Assigns each image to one of num_components clusters (unsupervised classes)."""

    num_components: int

    def cluster(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) -> (B,) int64 in [0, num_components)."""
        ...


@runtime_checkable
class Completer(Protocol):
    """Samples the unobserved bottom of images given their top rows (PixelRNN Fig. 1)."""

    def complete(self, x: Tensor, *args, **kwargs) -> Tensor:
        ...


@runtime_checkable
class ImageClassifier(Protocol):
    """An evaluation classifier: logits (B, num_classes_out) and penultimate features of clean images."""

    num_classes_out: int

    def features(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) -> (B, D)."""
        ...


@runtime_checkable
class NoisyClassifier(Protocol):
    """p(y | x_t, t) of noised images, with the noise schedule it was trained on (classifier guidance)."""

    def accuracy_by_timestep(self, x0: Tensor, labels: Tensor, timesteps: list[int], *,
                             generator: torch.Generator | None = None) -> list[float]:
        ...


@runtime_checkable
class StepScheduled(Protocol):
    """A model whose schedules (temperature, KL warm-up) advance once per optimiser step; the trainer calls
    `on_optimizer_step` after each step, so gradient accumulation does not speed them up."""

    def on_optimizer_step(self) -> None:
        ...


def num_labels(model: object) -> int:
    """How many labels a model's `sample` takes (0: unconditional)."""
    return int(getattr(model, "num_classes", 0) or 0)


def labels_for(model: object, n: int, *, device: torch.device | str | None = None) -> Tensor | None:
    """Class-balanced labels for n samples, 0, 1, ..., k-1, 0, ... (n,) int64; None for an unconditional model.
    The one place this idiom lives: grids, evaluation, training samples and reports all call it."""
    k = num_labels(model)
    return torch.arange(n, device=device) % k if k > 0 else None
