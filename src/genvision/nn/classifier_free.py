"""The two pieces of classifier-free guidance (Ho & Salimans 2022) that any conditional model shares.

Training drops the label to a learned null label with probability p_uncond (Algorithm 1), so one network
learns both the conditional and the unconditional model. Sampling mixes the two outputs (Eq. 6):

    out~ = (1 + w) out(x, y) - w out(x, null) = out_u + (1 + w) (out_c - out_u).

For a diffusion model `out` is eps. For an autoregressive model `out` is the logits of the next pixel:
softmax((1 + w) l_c - w l_u) = p_c^(1+w) p_u^(-w) / Z, i.e. p(x) p(y | x)^(1+w) by Bayes' rule, the same
implicit-classifier sharpening (per-class constants of the logits cancel in the softmax).
"""

from __future__ import annotations

import torch
from torch import Tensor


def drop_labels(labels: Tensor, p_uncond: float, null_label: int) -> Tensor:
    """Each label replaced by `null_label` with probability p_uncond (CFG Algorithm 1): (B,) -> (B,)."""
    if p_uncond <= 0:
        return labels
    drop = torch.rand(labels.shape, device=labels.device) < p_uncond
    return torch.where(drop, torch.full_like(labels, null_label), labels)


def classifier_free_mix(cond: Tensor, uncond: Tensor, weight: float) -> Tensor:
    """(1 + w) cond - w uncond, written as uncond + (1 + w)(cond - uncond) (CFG Eq. 6); any equal shapes."""
    return uncond + (1.0 + weight) * (cond - uncond)
