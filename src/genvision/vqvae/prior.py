"""The second stage of VQ-VAE (van den Oord et al. 2017, Sec. 3.2 and 4.2): a PixelCNN over the code maps
of a trained, frozen VQ-VAE. Sampling draws a code map from the PixelCNN and decodes it.

A uniform prior treats every one of the K^(h w) code maps as equally likely, so its samples are decoded
noise; the PixelCNN learns which codes follow which (strokes continue, background surrounds digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel, SampleMethod
from genvision.errors import GenvisionError
from genvision.vqvae.model import VQVAE


@dataclass(frozen=True)
class VQVAEPriorConfig:
    """vqvae: run folder or checkpoint of a trained `vqvae` model (frozen; its weights are also saved in
    the prior's checkpoints). arch/hidden/layers/first_kernel: the PixelCNN over code maps; input_embedding:
    the width of the learned embedding of each input code. temperature: the default for sample()."""

    vqvae: str = ""
    arch: Literal["pixelcnn", "gated"] = "gated"
    hidden: int = 64
    layers: int = 7
    first_kernel: int = 7
    input_embedding: int = 16
    class_conditional: bool = True
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise GenvisionError(f"VQVAEPriorConfig.temperature must be > 0, got {self.temperature}")


class VQVAEPrior(nn.Module):
    """A frozen VQ-VAE and a categorical PixelCNN over its (h, h) code maps with K levels."""

    def __init__(self, vqvae: VQVAE, config: VQVAEPriorConfig, *, num_classes: int = 0) -> None:
        super().__init__()
        h, w = vqvae.latent_shape
        if h != w:
            raise GenvisionError(f"the PixelCNN prior needs square code maps, the VQ-VAE gives {h}x{w}")
        self.config = config
        self.vqvae = vqvae.eval().requires_grad_(False)
        self.pixelcnn = PixelCNNModel(PixelCNNConfig(
            arch=config.arch, image_channels=1, image_size=h, hidden=config.hidden, layers=config.layers,
            output="categorical", levels=vqvae.config.num_codes, num_classes=num_classes,
            first_kernel=config.first_kernel, input_embedding=config.input_embedding))

    @property
    def num_classes(self) -> int:
        return self.pixelcnn.num_classes

    def train(self, mode: bool = True) -> VQVAEPrior:
        """Only the PixelCNN trains; the VQ-VAE stays in eval mode (no codebook updates)."""
        super().train(mode)
        self.vqvae.eval()
        return self

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> code map (B, h, w) int64, encoded in float32 even under autocast so
        that the codes match those of sampling and nll()."""
        with torch.autocast(x.device.type, enabled=False):
            return self.vqvae.encode_indices(x.float())

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """{"loss": -log p(code map) in nats per map, "bits_per_code"}; batch {"image", "label"}."""
        indices = self.encode(batch["image"])
        out = self.pixelcnn.loss({"indices": indices, "label": batch.get("label")})
        return {"loss": out["loss"], "bits_per_code": out["bpd"]}

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        labels: Tensor | None = None,
        generator: torch.Generator | None = None,
        temperature: float | None = None,
        method: SampleMethod = "fast",
    ) -> Tensor:
        """n images (n, C, H, W) in [-1, 1]: code maps from the PixelCNN (temperature: config default when
        None), decoded by the VQ-VAE. labels (n,) int64 for a class-conditional prior."""
        t = self.config.temperature if temperature is None else temperature
        indices = self.pixelcnn.sample_indices(n, labels=labels, generator=generator, temperature=t, method=method)
        return self.vqvae.decode_indices(indices)

    def nll(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Negative ELBO in nats per image (B,) with the learned prior: -log p(x | z_q) - log p_prior(z_q)
        (q(z | x) is one-hot, so its entropy is 0)."""
        indices = self.encode(x)
        prior = -self.pixelcnn.log_prob({"indices": indices}, labels=labels)
        return self.vqvae.reconstruction_nll(x, indices) + prior
