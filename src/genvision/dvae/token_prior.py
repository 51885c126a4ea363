"""The second stage of a token-grid dVAE: an autoregressive prior over its token maps.

As for a VQ-VAE (van den Oord et al. 2017, Sec. 3.2) the dVAE is trained first with a uniform prior over
codes, then frozen; a PixelCNN learns p(tokens [| class]) over the argmax token maps of the training
images. Sampling draws a token map from the PixelCNN and decodes it with the dVAE (DALL-E does the same
with a transformer over text and image tokens, Ramesh et al. 2021, Sec. 2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from genvision.autoregressive.code_prior import CodeMapPrior
from genvision.dvae.token_grid import TokenDVAE
from genvision.errors import GenvisionError


@dataclass(frozen=True)
class TokenPriorConfig:
    """dvae: checkpoint file or run folder of a trained `dvae-tokens` model. arch, hidden, layers,
    first_kernel: the PixelCNN (genvision.autoregressive). token_embedding: width of the learned embedding
    of each code fed to the PixelCNN. class_conditional: p(tokens | class)."""

    dvae: str = ""
    arch: Literal["pixelcnn", "gated"] = "gated"
    hidden: int = 64
    layers: int = 7
    first_kernel: int = 7
    token_embedding: int = 16
    class_conditional: bool = True


class TokenPrior(CodeMapPrior):
    """p(x) = sum over token maps of PixelCNN(tokens [| y]) * decoder; trained on encoded images.

    The frozen dVAE is the tokenizer (its weights travel in the prior's checkpoints), kept in eval mode.
    """

    def __init__(self, config: TokenPriorConfig, image_shape: tuple[int, int, int], num_classes: int,
                 *, dvae: TokenDVAE) -> None:
        if not isinstance(dvae, TokenDVAE):
            raise GenvisionError(f"TokenPrior: expected a dvae-tokens model, got a {type(dvae).__name__}")
        if tuple(image_shape) != dvae.image_shape:
            raise GenvisionError(f"TokenPrior: the data's images are {tuple(image_shape)} but the dVAE "
                                 f"{config.dvae!r} was trained on {dvae.image_shape}")
        if config.class_conditional and num_classes < 1:
            raise GenvisionError("TokenPrior: class_conditional=True needs labelled data")
        super().__init__(dvae, num_codes=dvae.num_codes, code_shape=dvae.grid_shape, arch=config.arch,
                         hidden=config.hidden, layers=config.layers, first_kernel=config.first_kernel,
                         input_embedding=config.token_embedding,
                         num_classes=num_classes if config.class_conditional else 0)
        self.config = config

    @property
    def dvae(self) -> TokenDVAE:
        return self.tokenizer
