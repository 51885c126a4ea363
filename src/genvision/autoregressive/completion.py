"""Image completion (PixelRNN Fig. 1): occluded input, several completions, the original; and how likely the
model finds its completions compared with the real continuation."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn


def complete_images(model: nn.Module, x: Tensor, *, labels: Tensor | None, observed_rows: int, n_samples: int,
                    seed: int = 0) -> Tensor:
    """Keep the top observed_rows rows of x: (B, C, H, W) in [-1, 1] and sample the rest n_samples times
    (model.complete) -> (B, n_samples, C, H, W) in [-1, 1]."""
    device = next(model.parameters()).device
    with torch.no_grad():
        return model.complete(x.to(device), observed_rows=observed_rows, n_samples=n_samples,
                              labels=None if labels is None else labels.to(device),
                              generator=torch.Generator(device=device).manual_seed(seed)).cpu()


def completion_grid(x: Tensor, completions: Tensor, *, observed_rows: int) -> Tensor:
    """Rows of (occluded input, completions, original): x (B, C, H, W), completions (B, S, C, H, W) ->
    (B * (S + 2), C, H, W) in [-1, 1], to save with nrow=S + 2. Grey marks the hidden part."""
    occluded = x.clone()
    occluded[:, :, observed_rows:] = -0.5
    return torch.cat([occluded[:, None], completions, x[:, None]], dim=1).flatten(0, 1)


class CompletionNLL(NamedTuple):
    """Mean -log p(x_i | x_<i) over the completed (hidden) pixels, in nats per pixel."""

    completions: float  # of the sampled completions
    originals: float  # of the real hidden rows of the same images
    pixels: int  # completed pixels per image


def completion_nll(model: nn.Module, x: Tensor, completions: Tensor, *, labels: Tensor | None,
                   observed_rows: int) -> CompletionNLL:
    """NLL per completed pixel of the completions (B, S, C, H, W) and of the originals x (B, C, H, W) under the
    model's own conditionals (model.log_prob_pixels -> (B, H, W)); only rows >= observed_rows count. A sampler
    that draws from the model gives completions about as likely as real continuations (issue 17)."""
    device = next(model.parameters()).device
    n_samples = completions.shape[1]

    def hidden_nll(images: Tensor, lab: Tensor | None) -> float:
        with torch.no_grad():
            per_pixel = -model.log_prob_pixels(images.to(device), None if lab is None else lab.to(device))
        return float(per_pixel[:, observed_rows:].double().mean())

    rep_labels = None if labels is None else labels.repeat_interleave(n_samples)
    width = x.shape[-1]
    return CompletionNLL(hidden_nll(completions.flatten(0, 1), rep_labels), hidden_nll(x, labels),
                         (x.shape[-2] - observed_rows) * width)
