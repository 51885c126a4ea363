"""Drawing n samples from a generator in batches, with one seeded generator: evaluation and `sample` use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from genvision.protocols import labels_for


def sample_batches(model, n: int, conditions: Mapping[str, Tensor], *, seed: int, batch: int,
                   options: Mapping[str, Any]) -> Tensor:
    """n samples (N, C, H, W) in [-1, 1] on the CPU, drawn `batch` at a time (so activations stay the size of
    one batch) from one generator seeded with `seed`; conditions: keyword tensors of `sample`, each (n, ...)
    and sliced with the batch ({"labels": (n,) int64}, {"components": ...} or {}). With batch >= n this is one
    model.sample call, the same images as sampling all at once."""
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    out = []
    with torch.no_grad():
        for start in range(0, n, batch):
            part = {k: v[start:start + batch].to(device) for k, v in conditions.items()}
            out.append(model.sample(min(batch, n - start), generator=gen, **part, **options).cpu())
    return torch.cat(out).float().clamp(-1, 1)


def generate(model, n: int, *, seed: int, batch: int, options: Mapping[str, Any]) -> tuple[Tensor, Tensor | None]:
    """n samples (N, C, H, W) in [-1, 1] and their labels (class-balanced when the model is conditional)."""
    labels = labels_for(model, n)
    conditions = {} if labels is None else {"labels": labels}
    return sample_batches(model, n, conditions, seed=seed, batch=batch, options=options), labels
