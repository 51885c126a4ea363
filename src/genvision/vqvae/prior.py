"""The second stage of VQ-VAE (van den Oord et al. 2017, Sec. 3.2 and 4.2): a PixelCNN over the code maps
of a trained, frozen VQ-VAE. Sampling draws a code map from the PixelCNN and decodes it.

A uniform prior treats every one of the K^(h w) code maps as equally likely, so its samples are decoded
noise; the PixelCNN learns which codes follow which (strokes continue, background surrounds digits).
"""

from __future__ import annotations

from dataclasses import dataclass

from genvision.autoregressive.code_prior import CodeMapPrior, CodePriorConfig
from genvision.vqvae.model import VQVAE


@dataclass(frozen=True)
class VQVAEPriorConfig(CodePriorConfig):
    """vqvae: run folder, checkpoint or pretrained:NAME of a trained `vqvae` model (frozen; its weights are
    also saved in the prior's checkpoints). The PixelCNN's fields: CodePriorConfig."""

    vqvae: str = ""


class VQVAEPrior(CodeMapPrior):
    """A frozen VQ-VAE and a categorical PixelCNN over its (h, h) code maps with K levels."""

    def __init__(self, vqvae: VQVAE, config: VQVAEPriorConfig, *, num_classes: int = 0) -> None:
        super().__init__(vqvae, num_codes=vqvae.config.num_codes, code_shape=vqvae.latent_shape, arch=config.arch,
                         hidden=config.hidden, layers=config.layers, first_kernel=config.first_kernel,
                         input_embedding=config.input_embedding, num_classes=num_classes,
                         temperature=config.temperature, p_uncond=config.p_uncond if num_classes else 0.0)
        self.config = config

    @property
    def vqvae(self) -> VQVAE:
        return self.tokenizer
