"""The image-completion figure of PixelRNN Fig. 1: occluded input, several completions, the original."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def completion_grid(model: nn.Module, x: Tensor, *, labels: Tensor | None, observed_rows: int, n_samples: int,
                    seed: int = 0) -> Tensor:
    """Rows of (occluded input, n_samples completions, original) for x: (B, C, H, W) in [-1, 1] and labels (B,)
    or None -> (B * (n_samples + 2), C, H, W) in [-1, 1], to save with nrow=n_samples + 2. The model keeps the
    top observed_rows rows and samples the rest (model.complete)."""
    device = next(model.parameters()).device
    with torch.no_grad():
        done = model.complete(x.to(device), observed_rows=observed_rows, n_samples=n_samples,
                              labels=None if labels is None else labels.to(device),
                              generator=torch.Generator(device=device).manual_seed(seed)).cpu()
    occluded = x.clone()
    occluded[:, :, observed_rows:] = -0.5  # grey marks the hidden part
    return torch.cat([occluded[:, None], done, x[:, None]], dim=1).flatten(0, 1)
