"""The PixelCNN tab: occlude the lower part of a digit, complete it N times ranked by log-likelihood, and the
per-pixel bits -log2 p(x_i | x_<i) of the whole image (the autoregressive factorisation, PixelRNN Eq. 1)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from genvision.errors import GenvisionError
from genvision.lab.figures import figure_to_array
from genvision.lab.images import check_label, show_grid
from genvision.protocols import num_labels
from genvision.viz.plots import pyplot


def model_labels(model: nn.Module, label: int | None, n: int) -> Tensor | None:
    """(n,) labels for a class-conditional PixelCNN: the class, or its null label (the unconditional model
    learnt by label dropout) when label is None; None for an unconditional model."""
    num_classes = num_labels(model)
    if num_classes == 0:
        return None
    if label is None:
        if model.config.p_uncond <= 0:  # no unconditional model was learnt by label dropout
            raise GenvisionError("this PixelCNN needs a class: pick one")
        return torch.full((n,), model.null_label, dtype=torch.long)
    return torch.full((n,), check_label(label, num_classes), dtype=torch.long)


@torch.no_grad()
def pixel_bits(model: nn.Module, x: Tensor, *, label: int | None = None) -> Tensor:
    """-log2 p(x_ij | x_<ij [, y]) of each pixel (summed over channels): x (1, C, H, W) in [-1, 1] -> (H, W).

    Sums to -log p(x) / ln 2, the model's exact NLL in bits (one forward pass: every conditional at once)."""
    v = model.values(x)
    params = model.params(v, labels=model_labels(model, label, x.shape[0]))
    return -model.dist.log_prob(params, v)[0] / math.log(2.0)


def bits_figure(bits: Tensor) -> np.ndarray:
    """A heat map of per-pixel bits (H, W) with a colour bar, rendered to uint8 (h, w, 3)."""
    fig, ax = pyplot().subplots(figsize=(3.6, 3.0))
    im = ax.imshow(bits.numpy(), cmap="magma", interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="bits")
    ax.set_xticks([])
    ax.set_yticks([])
    return figure_to_array(fig)


class CompletionResult(NamedTuple):
    occluded: np.ndarray  # the input with the hidden rows grey, upscaled uint8
    completions: np.ndarray  # the n completions, most likely first, upscaled uint8
    heatmap: np.ndarray  # per-pixel bits of the input image
    text: str
    samples: Tensor  # (n, C, H, W) in [-1, 1], ranked
    log_probs: Tensor  # (n,) log p(completion [| y]) in nats, descending


@torch.no_grad()
def complete_ranked(model: nn.Module, x: Tensor, *, rows: int, n: int = 8, label: int | None = None,
                    seed: int = 0) -> CompletionResult:
    """Keep the top `rows` rows of x (1, C, H, W) in [-1, 1], sample the rest n times (model.complete), rank
    the completions by their exact log-likelihood (model.log_prob)."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise GenvisionError(f"complete one image (1, C, H, W), got {tuple(x.shape)}")
    height = x.shape[-2]
    if not 0 <= rows <= height:
        raise GenvisionError(f"the visible rows must be in 0..{height}, got {rows}")
    labels = model_labels(model, label, 1)
    done = model.complete(x, observed_rows=int(rows), n_samples=n, labels=labels,
                          generator=torch.Generator().manual_seed(seed))[0]
    log_probs = model.log_prob(done, labels=None if labels is None else labels.expand(n))
    order = log_probs.argsort(descending=True)
    done, log_probs = done[order], log_probs[order]
    occluded = x.clone()
    occluded[:, :, rows:] = -0.5  # grey marks the hidden part
    bits = pixel_bits(model, x, label=label)
    dims = x[0].numel()
    total = float(bits.sum())
    heat = bits_figure(bits)
    cond = "unconditional (null label)" if label is None else f"class {label}"
    text = (f"{n} completions of the bottom {height - rows} rows, {cond}, ranked by -log2 p(x): "
            + ", ".join(f"{float(v) / math.log(2):.0f}" for v in -log_probs)
            + f" bits; the input: {total:.0f} bits = {total / dims:.3f} bits/dim")
    return CompletionResult(show_grid(occluded, nrow=1), show_grid(done, nrow=min(n, 8)), heat, text, done,
                            log_probs)
