"""Capabilities a model may have, as runtime-checkable Protocols: eval, report, the commands and the trainer
dispatch on these (`isinstance(model, Likelihood)`), never on a model's name.

A leaf module: it imports nothing from genvision, so every layer can use it.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

import torch
from torch import Tensor


@runtime_checkable
class Sampler(Protocol):
    """Generates images. num_classes: how many class labels `sample(labels=...)` takes (0: not class-conditional).
    `labels` are always classes of the data, never a model's own latent choices (see MixtureSampler)."""

    num_classes: int

    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               **options) -> Tensor:
        """(n, C, H, W) in [-1, 1]; labels (n,) int64 or None."""
        ...


@runtime_checkable
class MixtureSampler(Protocol):
    """A mixture p(x) = sum_k p(k) p(x | k) that draws from chosen components: `sample(n, components=...)`
    ((n,) int64 in [0, num_components); None draws k ~ p(k)), with its prior log p(k). Its sample grids lay
    out one column per component (sample_grid)."""

    num_components: int

    def sample(self, n: int, *, components: Tensor | None = None, generator: torch.Generator | None = None,
               **options) -> Tensor:
        ...

    def log_prior(self) -> Tensor:
        """log p(k): (num_components,)."""
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
class CodeMapModel(Protocol):
    """A prior over a tokenizer's code maps (VQ-VAE prior, token prior): the frozen tokenizer and the PixelCNN
    that models its codes."""

    tokenizer: Tokenizer
    pixelcnn: PixelCoder


@runtime_checkable
class Likelihood(Protocol):
    """-log p(x) (exact or a bound) in nats per image."""

    def nll(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> (B,) nats."""
        ...


@runtime_checkable
class ReconstructionLikelihood(Protocol):
    """A tokenizer whose decoder is a likelihood: -log p(x | z) for the codes z of x (the VQ-VAE's Gaussian)."""

    def reconstruction_nll(self, x: Tensor, indices: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1], indices: (B, h, w) int64 -> (B,) nats."""
        ...


@runtime_checkable
class PixelLikelihood(Protocol):
    """Every autoregressive conditional at once: log p(x_i | x_<i [, y]) per pixel."""

    def log_prob_pixels(self, batch_or_x: Tensor, *, labels: Tensor | None = None, **kwargs) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> (B, H, W) nats (colours summed)."""
        ...


@runtime_checkable
class PixelCoder(Protocol):
    """An autoregressive model whose sampling loop takes a `choose` callback for every value: the entropy coder
    runs it on both sides (genvision.compress)."""

    def fill_with(self, v: Tensor, choose, *, labels: Tensor | None = None, **kwargs) -> Tensor:
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
    """p(y | x_t, t) of noised images, with the noise schedule it was trained on (classifier guidance):
    __call__(x_t, t) -> logits (B, num_classes_out)."""

    num_classes_out: int

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
    """How many class labels a model's `sample` takes (0: not a class-conditional sampler)."""
    return int(model.num_classes) if isinstance(model, Sampler) else 0


def balanced(n: int, k: int, *, device: torch.device | str | None = None) -> Tensor:
    """0, 1, ..., k-1, 0, 1, ...: n (n,) int64 labels, each of k values as often as n allows (k >= 1)."""
    return torch.arange(n, device=device) % k


def by_row(k: int, per_row: int, *, device: torch.device | str | None = None) -> Tensor:
    """0 x per_row, 1 x per_row, ..., k-1 x per_row: (k * per_row,) int64, one row of a grid per value."""
    return torch.arange(k, device=device).repeat_interleave(per_row)


def labels_for(model: object, n: int, *, device: torch.device | str | None = None) -> Tensor | None:
    """Class-balanced class labels for n samples (balanced over num_labels(model)); None for a model that takes
    no class labels. The one place this idiom lives: evaluation, grids and reports all call it."""
    k = num_labels(model)
    return balanced(n, k, device=device) if k > 0 else None


class SampleGrid(NamedTuple):
    """How a grid of n samples is drawn and laid out: the keyword arguments `sample` gets ({"labels": ...} for a
    class-conditional sampler, {"components": ...} for a mixture, {} otherwise) and the grid's columns, one per
    class or component (0: no natural layout, the caller picks one)."""

    conditions: dict[str, Tensor]
    columns: int
    per: str  # what a column holds: "class", "mixture component" or ""


def sample_grid(model: object, n: int, *, device: torch.device | str | None = None) -> SampleGrid:
    """The conditions of a grid of n samples: one column per component of a MixtureSampler, one per class of a
    class-conditional Sampler; the labels cycle through them so each row holds one of each."""
    if isinstance(model, MixtureSampler):
        k = int(model.num_components)
        return SampleGrid({"components": balanced(n, k, device=device)}, k, "mixture component")
    labels = labels_for(model, n, device=device)
    if labels is None:
        return SampleGrid({}, 0, "")
    return SampleGrid({"labels": labels}, num_labels(model), "class")
