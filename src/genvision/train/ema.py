"""Exponential moving average of a model's weights, with a warm-up of the decay."""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_decay_at(step: int, *, decay: float, warmup: int) -> float:
    """Decay used at optimiser step `step` (0-based count of updates already applied).

    With warm-up the decay grows as (1 + step) / (warmup + step), capped at `decay` (the num_updates rule of
    TensorFlow's ExponentialMovingAverage, warmup = 10 there). Without it an EMA with decay 0.999 keeps
    0.999**1000 = 37% of the random initialisation after 1,000 steps; with it the average only spans the
    recent past early in training. warmup = 0 disables warm-up.
    """
    if warmup <= 0:
        return decay
    return min(decay, (1.0 + step) / (warmup + step))


class EMA:
    """A frozen copy of `model` whose parameters track an exponential moving average.

    Buffers (e.g. normalisation statistics) are copied, not averaged.
    """

    def __init__(self, model: nn.Module, *, decay: float = 0.999, warmup: int = 10) -> None:
        self.decay = decay
        self.warmup = warmup
        self.num_updates = 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = ema_decay_at(self.num_updates, decay=self.decay, warmup=self.warmup)
        ema_params = [p for p in self.model.parameters()]
        params = [p.detach() for p in model.parameters()]
        # p_ema <- d * p_ema + (1 - d) * p, as one fused foreach op per parameter list.
        torch._foreach_lerp_(ema_params, params, 1.0 - d)
        for b_ema, b in zip(self.model.buffers(), model.buffers(), strict=True):
            b_ema.copy_(b)
        self.num_updates += 1
