"""Improved precision and recall of a generative model (Kynkaanniemi et al. 2019)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from genvision.errors import GenvisionError


class PrecisionRecall(NamedTuple):
    """precision: fraction of fakes inside the real manifold; recall: reals inside the fake manifold."""

    precision: float
    recall: float


def knn_radii(features: Tensor, *, k: int, chunk_size: int = 1024) -> Tensor:
    """Distance of each row of features: (N, D) to its k-th nearest other row -> (N,), float64."""
    f = features.to(torch.float64)
    if not 1 <= k < f.shape[0]:
        raise GenvisionError(f"k-NN radius needs 1 <= k < number of samples, got k={k}, N={f.shape[0]}")
    radii = []
    for start in range(0, f.shape[0], chunk_size):
        d = torch.cdist(f[start : start + chunk_size], f)
        # k + 1 smallest: the first is the sample itself (distance 0).
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def inside_manifold(queries: Tensor, support: Tensor, radii: Tensor, *, chunk_size: int = 1024) -> Tensor:
    """Bool (Q,): query j lies within radii[i] of some support[i] (the k-NN manifold estimate)."""
    q = queries.to(torch.float64)
    s = support.to(torch.float64)
    inside = []
    for start in range(0, q.shape[0], chunk_size):
        d = torch.cdist(q[start : start + chunk_size], s)
        inside.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(inside)


def precision_recall(real: Tensor, fake: Tensor, *, k: int = 3, chunk_size: int = 1024) -> PrecisionRecall:
    """Improved precision/recall of fake: (M, D) against real: (N, D) features, k-NN radii."""
    real = torch.as_tensor(real).detach()
    fake = torch.as_tensor(fake).detach()
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise GenvisionError(
            f"precision/recall features must be (N, D) and (M, D), "
            f"got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    real_radii = knn_radii(real, k=k, chunk_size=chunk_size)
    fake_radii = knn_radii(fake, k=k, chunk_size=chunk_size)
    precision = inside_manifold(fake, real, real_radii, chunk_size=chunk_size).double().mean()
    recall = inside_manifold(real, fake, fake_radii, chunk_size=chunk_size).double().mean()
    return PrecisionRecall(float(precision), float(recall))
