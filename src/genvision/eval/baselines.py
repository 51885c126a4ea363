"""Likelihood baselines for binary images, computed the same way as the models' NLL (nats per image).

- independent Bernoulli per pixel: p_i = mean of the training pixels (smoothed);
- a mixture of K Bernoulli products fitted by EM (the classic latent-class model).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def independent_bernoulli_nll(train01: Tensor, test01: Tensor, *, smoothing: float = 1.0) -> Tensor:
    """train01, test01: (N, D) in {0, 1} -> (N_test,) nats per image."""
    n = train01.shape[0]
    p = (train01.double().sum(0) + smoothing) / (n + 2 * smoothing)
    x = test01.double()
    return -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)


def _mixture_log_joint(x: Tensor, log_w: Tensor, probs: Tensor) -> Tensor:
    """log w_k + log p(x | k) for every image and component: (N, K)."""
    return log_w[None] + x @ probs.log().T + (1 - x) @ (1 - probs).log().T


def bernoulli_mixture_nll(train01: Tensor, test01: Tensor, *, components: int = 20, iters: int = 50,
                          seed: int = 0) -> Tensor:
    """EM on a mixture of `components` Bernoulli products; returns the test NLL (N_test,) in nats."""
    g = torch.Generator().manual_seed(seed)
    x = train01.double()
    n, d = x.shape
    probs = (0.25 + 0.5 * torch.rand(components, d, generator=g, dtype=torch.float64))
    log_w = torch.full((components,), -math.log(components), dtype=torch.float64)
    for _ in range(iters):
        resp = torch.softmax(_mixture_log_joint(x, log_w, probs), dim=1)  # E step
        nk = resp.sum(0) + 1e-9
        log_w = (nk / n).log()  # M step, with a Beta(2, 2)-like smoothing of the pixel probabilities
        probs = ((resp.T @ x) + 1.0) / (nk[:, None] + 2.0)
    return -torch.logsumexp(_mixture_log_joint(test01.double(), log_w, probs), dim=1)
