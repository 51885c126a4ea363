"""VQ-VAE (van den Oord et al. 2017): encoder -> vector quantiser -> decoder, trained with Eq. 3

    L = log p(x | z_q(x)) + ||sg[z_e(x)] - e||^2 + beta ||z_e(x) - sg[e]||^2

(here as a loss: reconstruction error + codebook term + beta * commitment term; with an EMA codebook the
middle term is replaced by the moving-average update). Not generative by itself: sampling needs a prior over
code maps (vqvae/prior.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.errors import GenvisionError
from genvision.eval.likelihood import bernoulli_nll, discretized_gaussian_log_likelihood
from genvision.quantize.vector_quantizer import VectorQuantizer
from genvision.vqvae.nets import Decoder, Encoder


@dataclass(frozen=True)
class VQVAEConfig:
    """downsample: number of stride-2 convolutions (2: 28x28 -> 7x7, 32x32 -> 8x8; 1: 8x8 -> 4x4).
    num_codes: K; latent_dim: D, the size of each code. recon: "mse" (Gaussian decoder with one shared
    variance) or "bernoulli" (decoder logits, images binarised at 0)."""

    hidden: int = 64
    res_blocks: int = 2
    latent_dim: int = 16
    num_codes: int = 64
    downsample: int = 2
    beta: float = 0.25
    ema: bool = True
    decay: float = 0.99
    dead_code_threshold: float = 1.0
    kmeans_init: bool = False
    recon: Literal["mse", "bernoulli"] = "mse"

    def __post_init__(self) -> None:
        for name in ("hidden", "latent_dim", "num_codes"):
            if getattr(self, name) < 1:
                raise GenvisionError(f"VQVAEConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("res_blocks", "downsample"):
            if getattr(self, name) < 0:
                raise GenvisionError(f"VQVAEConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.recon not in ("mse", "bernoulli"):
            raise GenvisionError(f"VQVAEConfig.recon must be 'mse' or 'bernoulli', got {self.recon!r}")


class VQVAE(nn.Module):
    """Images (B, C, H, W) in [-1, 1] <-> code maps (B, h, w) int64 in [0, K), h = H / 2^downsample."""

    num_classes = 0  # not conditioned on labels, and no sample(): see VQVAEPrior

    def __init__(self, config: VQVAEConfig, image_shape: tuple[int, int, int], num_classes: int = 0) -> None:
        super().__init__()
        c, h, w = image_shape
        factor = 2**config.downsample
        if h % factor or w % factor:
            raise GenvisionError(
                f"VQ-VAE with downsample={config.downsample} needs image sides divisible by {factor}, got {h}x{w}"
            )
        self.config = config
        self.image_shape = (c, h, w)
        self.latent_shape = (h // factor, w // factor)
        self.encoder = Encoder(c, hidden=config.hidden, res_blocks=config.res_blocks,
                               latent_dim=config.latent_dim, downsample=config.downsample)
        self.quantizer = VectorQuantizer(
            config.num_codes, config.latent_dim, beta=config.beta, ema=config.ema, decay=config.decay,
            dead_code_threshold=config.dead_code_threshold, kmeans_init=config.kmeans_init)
        self.decoder = Decoder(c, hidden=config.hidden, res_blocks=config.res_blocks,
                               latent_dim=config.latent_dim, upsample=config.downsample)
        # Gaussian decoder variance for nll(): the running mean of the per-pixel squared error in training
        # (the maximum-likelihood variance shared by all pixels); it does not affect training.
        self.register_buffer("recon_var", torch.tensor(1.0))

    # ---- codes <-> images -------------------------------------------------------------------------------
    @property
    def num_codes(self) -> int:
        return self.config.num_codes

    def _check(self, x: Tensor) -> None:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise GenvisionError(f"VQ-VAE expects images (B, {', '.join(map(str, self.image_shape))}), "
                                 f"got {tuple(x.shape)}")

    def encode_indices(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> code map (B, h, w) int64 (never updates the codebook)."""
        self._check(x)
        return self.quantizer.encode(self.encoder(x))

    def decoder_output(self, indices: Tensor) -> Tensor:
        """Code map (B, h, w) -> decoder output (B, C, H, W): Gaussian means, or Bernoulli logits."""
        return self.decoder(self.quantizer.lookup(indices))

    def to_image(self, out: Tensor) -> Tensor:
        """Decoder output -> image in [-1, 1] (the clamped mean, or 2 p - 1 for Bernoulli logits)."""
        if self.config.recon == "bernoulli":
            return torch.sigmoid(out.float()) * 2 - 1
        return out.float().clamp(-1, 1)

    def decode_indices(self, indices: Tensor) -> Tensor:
        """Code map (B, h, w) int64 -> images (B, C, H, W) in [-1, 1]."""
        return self.to_image(self.decoder_output(indices))

    def reconstruct(self, x: Tensor) -> Tensor:
        """decode(encode(x)): (B, C, H, W) in [-1, 1]."""
        return self.decode_indices(self.encode_indices(x))

    # ---- training ---------------------------------------------------------------------------------------
    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Eq. 3: {"loss": recon + vq, "recon": mean squared error (or binary cross-entropy) per element,
        "vq": codebook + beta * commitment (beta * commitment with EMA), "perplexity", "usage"}."""
        x = batch["image"]
        self._check(x)
        vq = self.quantizer(self.encoder(x))
        out = self.decoder(vq.quantized).float()
        if self.config.recon == "bernoulli":
            recon = F.binary_cross_entropy_with_logits(out, (x > 0).float())
        else:
            recon = F.mse_loss(out, x.float())
            if self.training:
                with torch.no_grad():
                    self.recon_var.lerp_(recon.detach(), 1.0 - self.config.decay)
        return {"loss": recon + vq.loss, "recon": recon, "vq": vq.loss, "perplexity": vq.perplexity,
                "usage": vq.usage}

    # ---- likelihood -------------------------------------------------------------------------------------
    def reconstruction_nll(self, x: Tensor, indices: Tensor) -> Tensor:
        """-log p(x | z_q) in nats per image (B,): a discretised Gaussian (256 levels, variance recon_var) for
        recon="mse", a Bernoulli over x > 0 for recon="bernoulli"."""
        out = self.decoder_output(indices).float()
        if self.config.recon == "bernoulli":
            return bernoulli_nll(out, (x > 0).float())
        log_scale = 0.5 * self.recon_var.clamp_min(1e-8).log()
        ll = discretized_gaussian_log_likelihood(x.float(), means=out, log_scales=log_scale)
        return -ll.flatten(1).sum(1)

    def nll(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Negative ELBO in nats per image (B,) with a uniform prior over codes: q(z | x) is one-hot, so
        KL(q || uniform) = h * w * log K and -ELBO = -log p(x | z_q(x)) + h * w * log K. labels are ignored."""
        h, w = self.latent_shape
        return self.reconstruction_nll(x, self.encode_indices(x)) + h * w * math.log(self.config.num_codes)
