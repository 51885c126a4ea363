"""The discrete VAE tab: the K components of the mixture dVAE as rows of samples x ~ p(x | k) (Rolfe 2017,
Fig. 5), and the posterior q(k | x) of one digit as bars."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from genvision.lab.figures import figure_to_array
from genvision.lab.images import show_grid
from genvision.protocols import MixtureSampler, by_row
from genvision.viz.plots import pyplot


class ComponentRows(NamedTuple):
    grid: np.ndarray  # K rows of `per_row` samples, upscaled uint8
    text: str
    prior: Tensor  # p(k): (K,)


@torch.no_grad()
def component_rows(model: MixtureSampler, *, per_row: int = 8, seed: int = 0, mean: bool = True
                   ) -> ComponentRows:
    """Row k holds per_row draws x ~ p(x | k) (mean=True: the Bernoulli means, so the style latent shows
    without pixel noise). model: a MixtureSampler (the mixture dVAE)."""
    k = model.num_components
    images = model.sample(k * per_row, components=by_row(k, per_row),
                          generator=torch.Generator().manual_seed(seed), mean=mean)
    prior = model.log_prior().exp()
    text = "rows k = 0.." + str(k - 1) + ", prior p(k): " + ", ".join(f"{float(p):.2f}" for p in prior)
    return ComponentRows(show_grid(images, nrow=per_row, scale=3), text, prior)


class Posterior(NamedTuple):
    bars: np.ndarray  # q(k | x) as a bar chart, rendered
    text: str
    probs: Tensor  # (K,)


@torch.no_grad()
def posterior_bars(model: nn.Module, x: Tensor) -> Posterior:
    """q(k | x) of one image x (1, C, H, W) in [-1, 1] (pixels > 0 count as ink), as bars over k."""
    probs = model.posterior_logits(x)[0].softmax(-1)
    k = probs.numel()
    best = int(probs.argmax())
    fig, ax = pyplot().subplots(figsize=(4.4, 2.6))
    ax.bar(range(k), probs.numpy(), color=["C3" if i == best else "C0" for i in range(k)])
    ax.set_xticks(range(k))
    ax.set_ylim(0, 1)
    ax.set_xlabel("component k")
    ax.set_ylabel("q(k | x)")
    ax.grid(axis="y", alpha=0.3)
    return Posterior(figure_to_array(fig), f"most likely component k = {best} (q = {float(probs[best]):.2f})",
                     probs)
