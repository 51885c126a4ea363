"""The likelihood ledger: every model family reports negative log-likelihood through these functions.

Conventions: NLL in nats per image; bits/dim = nats / (num_dims * ln 2); images in [-1, 1] on a grid
of `num_levels` values (bin width 2 / (num_levels - 1)), the two edge bins extending to -inf / +inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor

from genvision.errors import GenvisionError

T = TypeVar("T", Tensor, float)

LN2 = math.log(2.0)


def bits_per_dim(nll_nats_per_image: T, num_dims: int) -> T:
    """nats per image -> bits per dimension: nll / (num_dims * ln 2)."""
    return nll_nats_per_image / (num_dims * LN2)


def nats_from_bits_per_dim(bpd: T, num_dims: int) -> T:
    """bits per dimension -> nats per image: bpd * num_dims * ln 2."""
    return bpd * (num_dims * LN2)


def approx_standard_normal_cdf(x: Tensor) -> Tensor:
    """Phi(x) ~= 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (the tanh approximation used by Ho et al.)."""
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def _check_levels(x: Tensor, means: Tensor, log_scales: Tensor, num_levels: int) -> float:
    if num_levels < 2:
        raise GenvisionError(f"num_levels must be >= 2, got {num_levels}")
    try:
        torch.broadcast_shapes(x.shape, means.shape, log_scales.shape)
    except RuntimeError:
        raise GenvisionError(
            f"x {tuple(x.shape)}, means {tuple(means.shape)} and log_scales {tuple(log_scales.shape)} "
            "do not broadcast"
        ) from None
    return 1.0 / (num_levels - 1)  # half a bin width


def discretized_gaussian_log_likelihood(
    x: Tensor, *, means: Tensor, log_scales: Tensor, num_levels: int = 256
) -> Tensor:
    """log P(x) per element for x in [-1, 1] on the grid, under N(means, exp(log_scales)^2) binned.

    Middle bins: log(Phi(x + h) - Phi(x - h)); the first bin is log Phi(x + h) and the last
    log(1 - Phi(x - h)), h = 1 / (num_levels - 1) (Sec. 3.3, Eq. 13, Ho et al. 2020; guided-diffusion's
    clamp at 1e-12 keeps the log finite). Returns a tensor of the broadcast shape, log-probs <= 0.
    """
    half = _check_levels(x, means, log_scales, num_levels)
    centered = x - means
    inv_std = torch.exp(-log_scales)
    cdf_plus = approx_standard_normal_cdf(inv_std * (centered + half))
    cdf_min = approx_standard_normal_cdf(inv_std * (centered - half))
    log_cdf_plus = cdf_plus.clamp(min=1e-12).log()
    log_one_minus_cdf_min = (1.0 - cdf_min).clamp(min=1e-12).log()
    log_delta = (cdf_plus - cdf_min).clamp(min=1e-12).log()
    return torch.where(
        x < -1.0 + half, log_cdf_plus, torch.where(x > 1.0 - half, log_one_minus_cdf_min, log_delta)
    )


def discretized_logistic_log_likelihood(
    x: Tensor, *, means: Tensor, log_scales: Tensor, num_levels: int = 256
) -> Tensor:
    """log P(x) per element under logistic(means, exp(log_scales)) binned on the grid (Salimans et al. 2017).

    Same bins as the Gaussian version with CDF sigma((x - mu) / s) (Eq. 2 of PixelCNN++). The middle bins
    use the exact identity log(sigma(a) - sigma(b)) = a + log(1 - e^{b - a}) - softplus(a) - softplus(b),
    finite even where the mass underflows (PixelCNN++'s code falls back to pdf * width there instead).
    """
    half = _check_levels(x, means, log_scales, num_levels)
    centered = x - means
    inv_s = torch.exp(-log_scales)
    plus_in = inv_s * (centered + half)
    min_in = inv_s * (centered - half)
    log_cdf_plus = plus_in - F.softplus(plus_in)  # log sigma(plus_in)
    log_one_minus_cdf_min = -F.softplus(min_in)  # log(1 - sigma(min_in))
    log_delta = plus_in + torch.log(-torch.expm1(min_in - plus_in)) - F.softplus(plus_in) - F.softplus(min_in)
    return torch.where(
        x < -1.0 + half, log_cdf_plus, torch.where(x > 1.0 - half, log_one_minus_cdf_min, log_delta)
    )


def bernoulli_nll(logits: Tensor, x01: Tensor) -> Tensor:
    """-log p(x) in nats per image (B,) for Bernoulli logits: (B, ...) and targets x01: (B, ...) in {0, 1}."""
    if logits.shape != x01.shape:
        raise GenvisionError(f"bernoulli logits {tuple(logits.shape)} and targets {tuple(x01.shape)} differ")
    nll = F.binary_cross_entropy_with_logits(logits, x01.to(logits.dtype), reduction="none")
    return nll.flatten(1).sum(dim=1)


def categorical_nll(logits: Tensor, target_indices: Tensor) -> Tensor:
    """-log p(x) in nats per image (B,); logits: (B, K, ...), target_indices: (B, ...) int64 in [0, K)."""
    if logits.dim() < 2 or logits.shape[:1] + logits.shape[2:] != target_indices.shape:
        raise GenvisionError(
            f"categorical logits {tuple(logits.shape)} do not match targets {tuple(target_indices.shape)} "
            "(expected logits (B, K, ...) and targets (B, ...))"
        )
    nll = F.cross_entropy(logits, target_indices.long(), reduction="none")
    return nll.reshape(nll.shape[0], -1).sum(dim=1)


def importance_weighted_nll(log_weights: Tensor) -> Tensor:
    """-log p(x) ~= -(logsumexp_k log w_k - log K) in nats per image (B,) (IWAE bound, Burda et al. 2016).

    log_weights: (K, B), log w_k = log p(x, z_k) - log q(z_k | x) for K samples z_k ~ q(z | x).
    """
    if log_weights.dim() != 2:
        raise GenvisionError(f"log_weights must be (K_samples, B), got shape {tuple(log_weights.shape)}")
    return -(torch.logsumexp(log_weights, dim=0) - math.log(log_weights.shape[0]))


class LikelihoodReport(NamedTuple):
    """Mean NLL over images in nats per image and in bits per dimension, and the dimension count."""

    nats_per_image: float
    bits_per_dim: float
    num_dims: int


def likelihood_report(nll_per_image: Tensor, image_shape: tuple[int, ...]) -> LikelihoodReport:
    """Summarise nll_per_image: (B,) in nats for images of image_shape, e.g. (C, H, W)."""
    if nll_per_image.dim() != 1 or nll_per_image.numel() == 0:
        raise GenvisionError(
            f"nll_per_image must be a non-empty (B,) tensor, got {tuple(nll_per_image.shape)}"
        )
    num_dims = math.prod(image_shape)
    nats = float(nll_per_image.detach().to(torch.float64).mean())
    return LikelihoodReport(nats, bits_per_dim(nats, num_dims), num_dims)


class ClassMarginal(NamedTuple):
    """-log p(x | y_true) per image and -log p(x) = -log (1/K) sum_k p(x | k), in nats, float64.

    conditional: (n,) for every image; marginal: (m,) exact for the images `subset` (indices into the n);
    marginal_mean: the mean of -log p(x) over all n images, exact when m == n, else estimated from the subset
    (see class_marginal_nll) with standard error marginal_se; passes: model evaluations, n + m (K - 1)."""

    conditional: Tensor
    marginal: Tensor
    subset: Tensor
    marginal_mean: float
    marginal_se: float
    passes: int


def class_marginal_nll(
    nll_fn: Callable[[Tensor, Tensor], Tensor],
    x: Tensor,
    labels: Tensor,
    num_classes: int,
    *,
    marginal_images: int | None = None,
    seed: int = 0,
    batch: int = 16,
) -> ClassMarginal:
    """-log p(x | y) for every image and -log p(x) with a uniform class prior, from an exact conditional
    likelihood nll_fn(x, labels) -> (B,) nats. x: (n, ...); labels: (n,) int64 in [0, K).

    The marginal needs the model once per class. With marginal_images = m < n, the K - 1 other classes are
    scored on a seeded random subset of m images only, and the mean is estimated with the conditional as a
    control variate: mean(-log p(x)) = mean_n(-log p(x | y)) + mean_m(-log p(x) + log p(x | y)), whose
    second term, log K + log p(y | x) <= log K, varies little (std ~0.3 nats for the MNIST PixelCNN against ~20
    for the NLL itself), so its standard error (finite-population corrected) is ~0.01 nats at m = 1000.
    batch: (image, class) pairs per nll_fn call; small batches keep a 28x28 conv net's activations in cache
    (benchmarks/bench_pixelcnn_bpd.py: 8-16 images are ~3x faster per image than 256 on a CPU).
    """
    n, k = x.shape[0], num_classes
    labels = labels.cpu()
    m = n if marginal_images is None else max(1, min(int(marginal_images), n))

    def score(images: Tensor, classes: Tensor) -> Tensor:
        """nll_fn over the (image index, class) pairs, `batch` pairs per call -> (pairs,) float64 on the CPU."""
        outs = []
        for s in range(0, len(images), batch):
            idx, lab = images[s : s + batch], classes[s : s + batch]
            outs.append(nll_fn(x[idx.to(x.device)], lab.to(x.device)).double().cpu())
        return torch.cat(outs) if outs else torch.zeros(0, dtype=torch.float64)

    conditional = score(torch.arange(n), labels)  # (n,)
    pick = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:m].sort().values
    subset = torch.arange(n) if m == n else pick
    full = conditional[subset, None].repeat(1, k)  # (m, K); column y_true already scored
    other = torch.ones(m, k, dtype=torch.bool)
    other[torch.arange(m), labels[subset]] = False
    img, cls = other.nonzero(as_tuple=True)
    full[img, cls] = score(subset[img], cls)
    marginal = -(torch.logsumexp(-full, dim=1) - math.log(k))
    gap = marginal - conditional[subset]  # log K + log p(y | x) <= log K
    mean = float(conditional.mean() + gap.mean())
    se = 0.0 if m == n or m < 2 else float(gap.std() / math.sqrt(m) * math.sqrt(1 - m / n))
    return ClassMarginal(conditional, marginal, subset, mean, se, n + len(img))
