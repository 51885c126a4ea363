"""Per-pixel output distributions of a PixelCNN: exact log-likelihood and inverse-CDF sampling.

Each distribution works on "values" v (B, C, H, W) in its own domain and converts to and from images in
[-1, 1] (`encode`, `decode`). Sampling is a pure function of given uniforms u, so two samplers that feed it
the same uniforms and the same parameters return the same values.

- `Bernoulli`: v in {0, 1}, one logit per channel; channels sampled one after the other.
- `Categorical`: v in {0, ..., L-1}, L logits per channel (van den Oord et al. 2016a, Sec. 5.1).
- `DiscretizedLogisticMixture`: v on the grid of L levels in [-1, 1]; one mixture over the whole pixel,
  colours coupled linearly (Salimans et al. 2017, PixelCNN++, Eq. 2-3); the pixel is drawn jointly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from genvision.errors import GenvisionError


def inverse_cdf(probs: Tensor, u: Tensor) -> Tensor:
    """Category k with cdf[k-1] <= u * total < cdf[k]: probs (n, K) >= 0, u (n,) in [0, 1) -> (n,) int64."""
    cdf = probs.cumsum(-1)
    k = (cdf <= u.unsqueeze(-1) * cdf[:, -1:]).sum(-1)
    return k.clamp(max=probs.shape[-1] - 1)


def _check(params: Tensor, expected: int, name: str) -> None:
    if params.shape[1] != expected:
        raise GenvisionError(f"{name}: expected {expected} parameter channels, got {params.shape[1]}")


class Bernoulli:
    """p(v_c = 1 | context) = sigmoid(logit_c). params: (B, C, H, W) logits."""

    per_channel = True
    uniforms = 1
    symbols = 2  # values per coded step (entropy coding, genvision.compress)

    def __init__(self, channels: int) -> None:
        self.channels = self.steps = self.param_channels = channels

    def encode(self, x: Tensor) -> Tensor:
        """Image (B, C, H, W) in [-1, 1] -> {0, 1} (pixels > 0 are on)."""
        return (x > 0).to(x.dtype)

    def decode(self, v: Tensor) -> Tensor:
        return 2 * v - 1

    def log_prob(self, params: Tensor, v: Tensor) -> Tensor:
        """log p(v) in nats per pixel, summed over channels: (B, H, W)."""
        _check(params, self.param_channels, "Bernoulli")
        return -F.binary_cross_entropy_with_logits(params, v, reduction="none").sum(1)

    def restrict(self, guided: Tensor, cond: Tensor, alpha: float) -> Tensor:
        """Guided logits (n, C) limited to the values the conditional model finds plausible: a value with
        p_c(v) < alpha * max_v' p_c(v') is ruled out (the adaptive plausibility constraint of contrastive
        decoding, Li et al. 2023, Eq. 3). For one logit l_c: off is ruled out when l_c > -log alpha, on when
        l_c < log alpha; between, the guided logit is kept."""
        bound = math.log(alpha)
        on, off = torch.full_like(guided, math.inf), torch.full_like(guided, -math.inf)
        return torch.where(cond < bound, off, torch.where(cond > -bound, on, guided))

    def sample_step(
        self, params: Tensor, pixel: Tensor, step: int, u: Tensor, *, temperature: float
    ) -> Tensor:
        """Channel `step` of one pixel: v = [u < sigmoid(logit / T)].
        params (n, C), pixel (n, C), u (n, 1) -> the pixel with channel `step` drawn."""
        out = pixel.clone()
        out[:, step] = (u[:, 0] < torch.sigmoid(params[:, step] / temperature)).to(pixel.dtype)
        return out

    def pmf(self, params: Tensor, pixel: Tensor, step: int) -> Tensor:
        """Probabilities of channel `step` being 0 and 1: params (n, C) -> (n, 2)."""
        p1 = torch.sigmoid(params[:, step])
        return torch.stack([1 - p1, p1], -1)

    def to_symbols(self, v: Tensor) -> Tensor:
        """Values (..) -> integer symbols (..) int64 in [0, symbols): the value itself."""
        return v.long()

    def from_symbols(self, k: Tensor) -> Tensor:
        return k.float()


class Categorical:
    """Softmax over `levels` per channel. params: (B, C * L, H, W), channel c at [c L, (c + 1) L)."""

    per_channel = True
    uniforms = 1

    def __init__(self, channels: int, levels: int) -> None:
        self.channels = self.steps = channels
        self.levels = levels
        self.param_channels = channels * levels

    def encode(self, x: Tensor) -> Tensor:
        """Image in [-1, 1] -> level round((x + 1) / 2 * (L - 1)), as float."""
        return torch.round((x.clamp(-1, 1) + 1) / 2 * (self.levels - 1))

    def decode(self, v: Tensor) -> Tensor:
        return v / (self.levels - 1) * 2 - 1

    def log_prob(self, params: Tensor, v: Tensor) -> Tensor:
        _check(params, self.param_channels, "Categorical")
        log_p = params.unflatten(1, (self.channels, self.levels)).log_softmax(2)
        return log_p.gather(2, v.long().unsqueeze(2)).squeeze(2).sum(1)

    def restrict(self, guided: Tensor, cond: Tensor, alpha: float) -> Tensor:
        """Guided logits (n, C * L): levels with p_c(k) < alpha * max_k' p_c(k') (per channel) get -inf
        (adaptive plausibility constraint, Li et al. 2023, Eq. 3)."""
        log_p = cond.unflatten(1, (self.channels, self.levels)).log_softmax(2)
        implausible = log_p < log_p.amax(2, keepdim=True) + math.log(alpha)
        return guided.masked_fill(implausible.flatten(1, 2), -math.inf)

    def sample_step(
        self, params: Tensor, pixel: Tensor, step: int, u: Tensor, *, temperature: float
    ) -> Tensor:
        logits = params[:, step * self.levels : (step + 1) * self.levels]
        out = pixel.clone()
        out[:, step] = inverse_cdf(torch.softmax(logits / temperature, -1), u[:, 0]).to(pixel.dtype)
        return out

    @property
    def symbols(self) -> int:
        return self.levels

    def pmf(self, params: Tensor, pixel: Tensor, step: int) -> Tensor:
        """Probabilities of the L levels of channel `step`: params (n, C L) -> (n, L)."""
        return torch.softmax(params[:, step * self.levels : (step + 1) * self.levels], -1)

    def to_symbols(self, v: Tensor) -> Tensor:
        return v.long()

    def from_symbols(self, k: Tensor) -> Tensor:
        return k.float()


class DiscretizedLogisticMixture:
    """Mixture of K discretised logistics over the whole pixel (Salimans et al. 2017).

    params (B, K (1 + 2C + C(C-1)/2), H, W) =
        [mixture logits K | means C K | log scales C K | coupling C(C-1)/2 K];
    colour c's mean is mu_c + sum_{c' < c} tanh(a_{c c'}) x_{c'} (Eq. 3; for RGB: alpha, beta, gamma).
    """

    per_channel = False
    steps = 1

    def __init__(self, channels: int, mixtures: int, levels: int = 256) -> None:
        self.channels, self.mixtures, self.levels = channels, mixtures, levels
        self.pairs = [(c, c2) for c in range(channels) for c2 in range(c)]
        self.param_channels = mixtures * (1 + 2 * channels + len(self.pairs))
        self.uniforms = 1 + channels  # the component, then one per colour

    def encode(self, x: Tensor) -> Tensor:
        """Image in [-1, 1] -> nearest of the L grid values -1 + 2k / (L - 1)."""
        return self._snap(x)

    def decode(self, v: Tensor) -> Tensor:
        return v

    def _snap(self, x: Tensor) -> Tensor:
        k = torch.round((x.clamp(-1, 1) + 1) / 2 * (self.levels - 1))
        return k / (self.levels - 1) * 2 - 1

    def _split(self, params: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """params (B, P, ...) -> logits (B, K, ...), means and log_scales (B, C, K, ...),
        coupling (B, pairs, K, ...)."""
        _check(params, self.param_channels, "DiscretizedLogisticMixture")
        K, C = self.mixtures, self.channels
        logits = params[:, :K]
        means = params[:, K : K + C * K].unflatten(1, (C, K))
        log_scales = params[:, K + C * K : K + 2 * C * K].unflatten(1, (C, K)).clamp(min=-7.0)
        coupling = torch.tanh(params[:, K + 2 * C * K :].unflatten(1, (len(self.pairs), K)))
        return logits, means, log_scales, coupling

    def _coupled_means(self, means: Tensor, coupling: Tensor, x: Tensor) -> Tensor:
        """means (B, C, K, ...) + sum_{c' < c} a_{c c'} x_{c'} with x (B, C, ...) (Eq. 3, Salimans 2017)."""
        shifts = [torch.zeros_like(means[:, 0]) for _ in range(self.channels)]
        for p, (c, c2) in enumerate(self.pairs):
            shifts[c] = shifts[c] + coupling[:, p] * x[:, c2].unsqueeze(1)
        return means + torch.stack(shifts, 1)

    def log_prob(self, params: Tensor, v: Tensor) -> Tensor:
        """log p(pixel) in nats: (B, H, W), v on the grid. Eq. 2, Salimans et al. 2017: the mass of the bin
        [x - 1/(L-1), x + 1/(L-1)] under each logistic, the edge bins taking the tails."""
        logits, means, log_scales, coupling = self._split(params)
        means = self._coupled_means(means, coupling, v)
        half = 1.0 / (self.levels - 1)
        x = v.unsqueeze(2)  # (B, C, 1, H, W)
        centred, inv_s = x - means, torch.exp(-log_scales)
        plus, minus = inv_s * (centred + half), inv_s * (centred - half)
        log_cdf_plus = plus - F.softplus(plus)  # log sigmoid(plus): bin 0 takes (-inf, -1 + half]
        log_sf_minus = -F.softplus(minus)  # log (1 - sigmoid(minus)): bin L-1 takes [1 - half, inf)
        delta = torch.sigmoid(plus) - torch.sigmoid(minus)
        mid = inv_s * centred
        log_pdf_mid = mid - log_scales - 2 * F.softplus(mid)
        # Tiny bins: density at the centre times the bin width 2 / (L - 1), for numerical stability.
        inner = torch.where(delta > 1e-5, torch.log(delta.clamp(min=1e-12)), log_pdf_mid + math.log(2 * half))
        log_bin = torch.where(x < -1 + half, log_cdf_plus, torch.where(x > 1 - half, log_sf_minus, inner))
        return torch.logsumexp(logits.log_softmax(1) + log_bin.sum(1), dim=1)

    def sample_step(
        self, params: Tensor, pixel: Tensor, step: int, u: Tensor, *, temperature: float
    ) -> Tensor:
        """Whole pixel: component k by inverse CDF of softmax(logits / T) with u[:, 0], then colour c by
        the logistic inverse CDF mu_c + T s_c logit(u[:, 1 + c]) snapped to the grid (which is the
        discretised distribution exactly), coupled to the already drawn colours. params (n, P) -> (n, C)."""
        logits, means, log_scales, coupling = self._split(params)
        k = inverse_cdf(torch.softmax(logits / temperature, -1), u[:, 0])

        def pick(t: Tensor) -> Tensor:  # (n, X, K) -> (n, X) at component k
            return t.gather(2, k.view(-1, 1, 1).expand(-1, t.shape[1], 1)).squeeze(2)

        mu, scale, a = pick(means), torch.exp(pick(log_scales)) * temperature, pick(coupling)
        x = torch.zeros_like(pixel)
        for c in range(self.channels):
            mean = mu[:, c] + sum(a[:, p] * x[:, c2] for p, (cc, c2) in enumerate(self.pairs) if cc == c)
            uc = u[:, 1 + c].clamp(1e-5, 1 - 1e-5)
            x[:, c] = self._snap(mean + scale[:, c] * (torch.log(uc) - torch.log1p(-uc)))
        return x

    @property
    def symbols(self) -> int:
        return self.levels

    def pmf(self, params: Tensor, pixel: Tensor, step: int) -> Tensor:
        """Probabilities of the L grid values of a one-channel pixel, Eq. 2 at every bin, normalised:
        params (n, P) -> (n, L). Colour pixels are drawn jointly and have no per-step pmf here."""
        if self.channels != 1:
            raise GenvisionError("entropy coding with a logistic mixture needs one channel (colour pixels are "
                                 "drawn jointly)")
        n, L = params.shape[0], self.levels
        grid = self.from_symbols(torch.arange(L, device=params.device))
        log_p = self.log_prob(params.repeat_interleave(L, 0)[:, :, None, None], grid.repeat(n).view(-1, 1, 1, 1))
        return torch.softmax(log_p.view(n, L), -1)

    def to_symbols(self, v: Tensor) -> Tensor:
        """Grid values in [-1, 1] -> level k in [0, L)."""
        return torch.round((v + 1) / 2 * (self.levels - 1)).long()

    def from_symbols(self, k: Tensor) -> Tensor:
        return k.float() / (self.levels - 1) * 2 - 1
