"""The second stage of VQ-VAE (van den Oord et al. 2017, Sec. 3.2 and 4.2): a PixelCNN over the code maps
of a trained, frozen VQ-VAE. Sampling draws a code map from the PixelCNN and decodes it.

A uniform prior treats every one of the K^(h w) code maps as equally likely, so its samples are decoded
noise; the PixelCNN learns which codes follow which (strokes continue, background surrounds digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from genvision.autoregressive.code_prior import CodeMapPrior
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


class VQVAEPrior(CodeMapPrior):
    """A frozen VQ-VAE and a categorical PixelCNN over its (h, h) code maps with K levels."""

    def __init__(self, vqvae: VQVAE, config: VQVAEPriorConfig, *, num_classes: int = 0) -> None:
        super().__init__(vqvae, num_codes=vqvae.config.num_codes, code_shape=vqvae.latent_shape, arch=config.arch,
                         hidden=config.hidden, layers=config.layers, first_kernel=config.first_kernel,
                         input_embedding=config.input_embedding, num_classes=num_classes,
                         temperature=config.temperature)
        self.config = config

    @property
    def vqvae(self) -> VQVAE:
        return self.tokenizer
