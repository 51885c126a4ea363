"""How a discrete codebook is used: fraction of codes used, perplexity, entropy, dead codes."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from genvision.errors import GenvisionError


class CodebookStats(NamedTuple):
    """usage in [0, 1]; perplexity in [1, num_codes] (exp of entropy in nats); entropy in bits; dead count."""

    usage: float
    perplexity: float
    entropy_bits: float
    dead_codes: int


def codebook_stats(indices: Tensor, num_codes: int) -> CodebookStats:
    """Statistics of code frequencies in indices: any shape, integers in [0, num_codes)."""
    flat = torch.as_tensor(indices).detach().reshape(-1)
    if flat.numel() == 0 or flat.is_floating_point():
        raise GenvisionError(
            f"codebook indices must be a non-empty integer tensor, got {flat.dtype} x {flat.numel()}"
        )
    if int(flat.min()) < 0 or int(flat.max()) >= num_codes:
        raise GenvisionError(
            f"codebook indices must lie in [0, {num_codes}), got range [{int(flat.min())}, {int(flat.max())}]"
        )
    counts = torch.bincount(flat.long(), minlength=num_codes).to(torch.float64)
    p = counts[counts > 0] / counts.sum()
    entropy_nats = float(-(p * p.log()).sum())
    used = int((counts > 0).sum())
    return CodebookStats(
        usage=used / num_codes,
        perplexity=math.exp(entropy_nats),
        entropy_bits=entropy_nats / math.log(2.0),
        dead_codes=num_codes - used,
    )
