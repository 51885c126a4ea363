"""The denoising filmstrip: x_t along the reverse process, one row per sample."""

from __future__ import annotations

from pathlib import Path

import torch

from genvision.viz.grid import save_grid


def denoising_filmstrip(model, path: Path, *, n: int = 8, frames: int = 10, labels=None, seed: int = 0,
                        steps: int = 50, **sample_options) -> Path:
    """Run DDIM with `steps` steps and keep `frames` evenly spaced states x_t (the last is x_0)."""
    states: list[torch.Tensor] = []
    keep = set(torch.linspace(0, steps - 1, frames - 1).round().long().tolist())

    def callback(i, t, x_t, x0_pred):
        if i in keep:
            states.append(x_t.clamp(-1, 1).cpu())

    gen = torch.Generator().manual_seed(seed)
    final = model.sample(n, labels=labels, generator=gen, steps=steps, callback=callback, **sample_options)
    states.append(final.cpu())
    strip = torch.stack(states, dim=1).flatten(0, 1)  # (n * frames, C, H, W), one row per sample
    return save_grid(strip, path, nrow=len(states), scale=2)
