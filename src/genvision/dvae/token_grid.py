"""A grid of categorical latents: the dVAE tokenizer of DALL-E (Ramesh et al. 2021, Sec. 2.1), small.

A convolutional encoder maps x (B, C, H, W) to logits (B, K, h, w), h = H / 2**downsamples: one
categorical over K codes per grid cell. Training feeds a Gumbel-softmax relaxed one-hot (B, K, h, w)
through a 1x1 convolution K -> D (for a one-hot input this is a lookup in a codebook of K vectors) to a
convolutional decoder. The objective is the beta-weighted ELBO under a uniform prior over codes:

    loss = E_q[-log p(x | z)] + beta * sum_cells KL(q(z_cell | x) || Uniform(K))

with the temperature annealed (cosine, 1 -> 1/16 by default) and beta warmed up from 0 (DALL-E App. A.2).
At inference the tokens are the argmax codes, decoded through the same embedding as exact one-hots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.config import option
from genvision.dvae.gumbel import cosine_warmup, gumbel_softmax, kl_categorical_uniform, temperature
from genvision.dvae.networks import ConvDecoder, ConvEncoder
from genvision.errors import GenvisionError
from genvision.eval.likelihood import bernoulli_nll


@dataclass(frozen=True)
class TokenDVAEConfig:
    """codes: K per cell. hidden: conv channels. embed_dim: D of the code embedding. downsamples: stride-2
    stages (2: 28x28 -> 7x7). estimator: gumbel (soft relaxed one-hot) | st_gumbel (straight-through).
    tau_schedule / tau0 / tau_min / tau_rate / anneal_steps: as MixtureDVAEConfig. kl_weight: beta,
    reached after kl_warmup steps (half-cosine from 0). recon: bernoulli (binary images: pixels > 0 are 1;
    nats) | mse (sum of squared errors per image, decoder output used as the image)."""

    codes: int = 128
    hidden: int = 64
    embed_dim: int = 64
    downsamples: int = 2
    estimator: Literal["gumbel", "st_gumbel"] = "gumbel"
    tau_schedule: Literal["exponential", "cosine"] = "cosine"
    tau0: float = 1.0
    tau_min: float = 1.0 / 16
    tau_rate: float = option(1e-4, min=0)
    anneal_steps: int = option(2000, min=0)  # 0: tau_min from the start
    kl_weight: float = 1.0
    kl_warmup: int = option(500, min=0)
    recon: Literal["bernoulli", "mse"] = "bernoulli"

    def __post_init__(self) -> None:
        if self.codes < 2:
            raise GenvisionError(f"TokenDVAEConfig.codes must be >= 2, got {self.codes}")
        for name in ("hidden", "embed_dim"):
            if getattr(self, name) < 1:
                raise GenvisionError(f"TokenDVAEConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.downsamples < 0:
            raise GenvisionError(f"TokenDVAEConfig.downsamples must be >= 0, got {self.downsamples}")
        if self.estimator not in ("gumbel", "st_gumbel"):
            raise GenvisionError(f"TokenDVAEConfig.estimator must be 'gumbel' or 'st_gumbel', got {self.estimator!r}")
        if self.tau_schedule not in ("exponential", "cosine"):
            raise GenvisionError(f"TokenDVAEConfig.tau_schedule: unknown schedule {self.tau_schedule!r}")
        if not 0 < self.tau_min <= self.tau0:
            raise GenvisionError(f"TokenDVAEConfig: need 0 < tau_min <= tau0, got {self.tau_min}, {self.tau0}")
        if self.kl_weight < 0:
            raise GenvisionError(f"TokenDVAEConfig.kl_weight must be >= 0, got {self.kl_weight}")
        if self.recon not in ("bernoulli", "mse"):
            raise GenvisionError(f"TokenDVAEConfig.recon must be 'bernoulli' or 'mse', got {self.recon!r}")


class TokenDVAE(nn.Module):
    """Images (B, C, H, W) in [-1, 1] <-> token maps (B, h, w) int64 in [0, codes). No sample(): a prior
    over token maps (TokenPrior) makes it generative. num_classes = 0."""

    num_classes = 0

    def __init__(self, config: TokenDVAEConfig, image_shape: tuple[int, int, int], num_classes: int = 0) -> None:
        super().__init__()
        del num_classes
        self.config = config
        self.image_shape = tuple(image_shape)
        c, h, w = self.image_shape
        f = 2**config.downsamples
        if h % f or w % f:
            raise GenvisionError(f"TokenDVAE: image {h}x{w} is not divisible by 2**downsamples = {f}")
        self.grid_shape = (h // f, w // f)
        self.encoder = ConvEncoder(c, config.hidden, config.codes, downsamples=config.downsamples)
        # A 1x1 convolution of a one-hot map is a codebook lookup; of a relaxed map, a convex mix of codes.
        self.embed = nn.Conv2d(config.codes, config.embed_dim, 1, bias=False)
        self.decoder = ConvDecoder(config.embed_dim, config.hidden, c, downsamples=config.downsamples)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def on_optimizer_step(self) -> None:
        """Called by the trainer after each optimiser step (not per micro-batch): advances the schedules."""
        self.step += 1

    @property
    def num_codes(self) -> int:
        return self.config.codes

    def tau(self) -> float:
        cfg = self.config
        return temperature(cfg.tau_schedule, int(self.step), tau0=cfg.tau0, tau_min=cfg.tau_min,
                           rate=cfg.tau_rate, total=cfg.anneal_steps)

    def beta(self) -> float:
        return cosine_warmup(int(self.step), total=self.config.kl_warmup, final=self.config.kl_weight)

    def logits(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> code logits (B, K, h, w), float32."""
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise GenvisionError(f"TokenDVAE: images must be (B, {', '.join(map(str, self.image_shape))}), "
                                 f"got {tuple(x.shape)}")
        return self.encoder(x).float()

    def decode_codes(self, z: Tensor) -> Tensor:
        """z: (B, K, h, w) one-hot or relaxed -> decoder output (B, C, H, W), float32 (Bernoulli logits
        for recon='bernoulli', the image for 'mse')."""
        return self.decoder(self.embed(z)).float()

    def _output_to_image(self, out: Tensor) -> Tensor:
        if self.config.recon == "bernoulli":
            return torch.tanh(out / 2)  # 2 sigmoid(out) - 1: the mean image in [-1, 1]
        return out.clamp(-1.0, 1.0)

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """{"loss": recon + beta * kl (per image, batch mean), "recon", "kl" (nats per image, summed over
        cells), "tau", "beta", "perplexity": exp(entropy) of the batch-average code distribution}."""
        x = batch["image"]
        logits = self.logits(x)
        tau, beta = self.tau(), self.beta()
        z = gumbel_softmax(logits, tau=tau, hard=self.config.estimator == "st_gumbel", dim=1)
        out = self.decode_codes(z)
        if self.config.recon == "bernoulli":
            recon = bernoulli_nll(out, (x > 0).float())
        else:
            recon = (x.float() - out).pow(2).flatten(1).sum(1)
        kl = kl_categorical_uniform(logits, dim=1).flatten(1).sum(1)
        with torch.no_grad():
            avg = logits.softmax(1).mean((0, 2, 3))
            perplexity = torch.exp(-(avg * avg.clamp_min(1e-12).log()).sum())
        recon, kl = recon.mean(), kl.mean()
        device = x.device
        return {"loss": recon + beta * kl, "recon": recon, "kl": kl, "tau": torch.tensor(tau, device=device),
                "beta": torch.tensor(beta, device=device), "perplexity": perplexity}

    @torch.no_grad()
    def encode_indices(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> argmax tokens (B, h, w) int64 in [0, codes)."""
        return self.logits(x).argmax(1)

    @torch.no_grad()
    def decode_indices(self, indices: Tensor) -> Tensor:
        """indices: (B, h, w) int64 in [0, codes) -> images (B, C, H, W) in [-1, 1] (the decoder's mean)."""
        k = self.config.codes
        if indices.dim() != 3 or tuple(indices.shape[1:]) != self.grid_shape or torch.is_floating_point(indices):
            raise GenvisionError(f"TokenDVAE: indices must be (B, {self.grid_shape[0]}, {self.grid_shape[1]}) "
                                 f"int64, got {tuple(indices.shape)} {indices.dtype}")
        if indices.numel() and (indices.min() < 0 or indices.max() >= k):
            raise GenvisionError(f"TokenDVAE: indices must lie in [0, {k}), got {indices.min()}..{indices.max()}")
        z = F.one_hot(indices.long(), k).permute(0, 3, 1, 2).float()
        return self._output_to_image(self.decode_codes(z))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """decode_indices(encode_indices(x)): (B, C, H, W) in [-1, 1]."""
        return self.decode_indices(self.encode_indices(x))

