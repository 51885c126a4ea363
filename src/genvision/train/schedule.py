"""Learning-rate schedule: linear warm-up then cosine decay to a floor."""

from __future__ import annotations

import math


def warmup_cosine_lr(step: int, *, base_lr: float, warmup_steps: int, total_steps: int,
                     min_lr_ratio: float = 0.1) -> float:
    """LR at optimiser step `step` (0-based)."""
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    floor = base_lr * min_lr_ratio
    return floor + 0.5 * (base_lr - floor) * (1.0 + math.cos(math.pi * progress))
