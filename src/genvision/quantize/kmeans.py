"""k-means in torch: squared distances, nearest centroids, k-means++ seeding and Lloyd iterations.

Lloyd's algorithm (Lloyd 1982; the generalised Lloyd / LBG algorithm of Linde, Buzo & Gray 1980 for vector
quantiser design) alternates the two optimality conditions of a quantiser: each vector goes to its nearest
centroid, each centroid moves to the mean of its vectors. Every step lowers (or keeps) the distortion.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from torch import Tensor

from genvision.errors import GenvisionError

# Rows per distance block: N x K float32 blocks of at most CHUNK x K keep memory flat for big N.
CHUNK = 65536


class KMeansResult(NamedTuple):
    """centroids (K, D); assignments (N,) int64 in [0, K); inertia: mean squared distance to the centroid."""

    centroids: Tensor
    assignments: Tensor
    inertia: float


def squared_distances(x: Tensor, centroids: Tensor) -> Tensor:
    """||x_n - c_k||^2 = ||x_n||^2 - 2 x_n . c_k + ||c_k||^2 for x: (N, D), centroids: (K, D) -> (N, K) >= 0."""
    d = x.pow(2).sum(1, keepdim=True) - 2.0 * x @ centroids.T + centroids.pow(2).sum(1)[None, :]
    return d.clamp_min_(0.0)


def nearest(x: Tensor, centroids: Tensor) -> tuple[Tensor, Tensor]:
    """(index (N,) int64 of the nearest centroid, its squared distance (N,)) for x: (N, D), centroids: (K, D).

    Ties go to the lowest index. Computed in blocks of CHUNK rows.
    """
    index = torch.empty(x.shape[0], dtype=torch.long, device=x.device)
    dist = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    for start in range(0, x.shape[0], CHUNK):
        d_min, i_min = squared_distances(x[start:start + CHUNK], centroids).min(1)
        index[start:start + CHUNK], dist[start:start + CHUNK] = i_min, d_min
    return index, dist


def _randint(high: int, n: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    return torch.randint(high, (n,), generator=generator, device=generator.device if generator else device)


def kmeans_plusplus_init(x: Tensor, k: int, *, generator: torch.Generator | None = None) -> Tensor:
    """k seeds (k, D) from the rows of x (N, D): the first uniformly, each next with probability proportional
    to its squared distance to the nearest seed so far (Arthur & Vassilvitskii 2007).

    Once every distinct row is a seed (all distances 0), the remaining seeds repeat uniformly chosen rows.
    """
    n = x.shape[0]
    dev = generator.device if generator is not None else x.device
    chosen = [int(_randint(n, 1, generator, x.device))]
    best = squared_distances(x, x[chosen[0]][None]).squeeze(1)
    for _ in range(1, k):
        total = float(best.sum())
        if total > 0:
            i = int(torch.multinomial((best / total).to(dev), 1, generator=generator))
        else:
            i = int(_randint(n, 1, generator, x.device))
        chosen.append(i)
        best = torch.minimum(best, squared_distances(x, x[i][None]).squeeze(1))
    return x[torch.tensor(chosen, device=x.device)].clone()


def random_init(x: Tensor, k: int, *, generator: torch.Generator | None = None) -> Tensor:
    """k distinct rows of x (N, D) chosen uniformly (with repeats only when k > N): (k, D)."""
    n = x.shape[0]
    if k <= n:
        perm = torch.randperm(n, generator=generator, device=generator.device if generator else x.device)
        return x[perm[:k].to(x.device)].clone()
    return x[_randint(n, k, generator, x.device).to(x.device)].clone()


def lloyd_step(x: Tensor, centroids: Tensor) -> tuple[Tensor, Tensor, float]:
    """One Lloyd iteration: (new centroids (K, D), assignments (N,), inertia before the move).

    A centroid that gets no vector stays where it was. Means are summed in float64, so a cluster of
    identical vectors gets exactly that vector back (a lossless codebook stays lossless).
    """
    k = centroids.shape[0]
    assign, dist = nearest(x, centroids)
    sums = torch.zeros(centroids.shape, dtype=torch.float64, device=x.device).index_add_(0, assign, x.double())
    counts = torch.bincount(assign, minlength=k).to(torch.float64)
    means = (sums / counts.clamp_min(1)[:, None]).to(centroids.dtype)
    moved = torch.where(counts[:, None] > 0, means, centroids)
    return moved, assign, float(dist.mean())


def kmeans(
    x: Tensor,
    k: int,
    *,
    iters: int = 20,
    init: Literal["kmeans++", "random"] = "kmeans++",
    generator: torch.Generator | None = None,
) -> KMeansResult:
    """Cluster the rows of x: (N, D) float into k centroids; at most `iters` Lloyd steps, stopping early when
    no assignment changes. Runs in float32 on x's device; randomness only from `generator`."""
    if x.dim() != 2 or x.shape[0] == 0:
        raise GenvisionError(f"kmeans expects a non-empty (N, D) tensor, got shape {tuple(x.shape)}")
    if k < 1:
        raise GenvisionError(f"kmeans needs k >= 1, got {k}")
    if init not in ("kmeans++", "random"):
        raise GenvisionError(f"kmeans init must be 'kmeans++' or 'random', got {init!r}")
    x = x.detach().float()
    seed = kmeans_plusplus_init if init == "kmeans++" else random_init
    centroids = seed(x, k, generator=generator)
    assign = None
    for _ in range(iters):
        moved, new_assign, _ = lloyd_step(x, centroids)
        if assign is not None and torch.equal(new_assign, assign):
            break
        centroids, assign = moved, new_assign
    assign, dist = nearest(x, centroids)
    return KMeansResult(centroids, assign, float(dist.mean()))
