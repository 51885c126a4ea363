"""The second stage of a token-grid dVAE: an autoregressive prior over its token maps.

As for a VQ-VAE (van den Oord et al. 2017, Sec. 3.2) the dVAE is trained first with a uniform prior over
codes, then frozen; a PixelCNN learns p(tokens [| class]) over the argmax token maps of the training
images. Sampling draws a token map from the PixelCNN and decodes it with the dVAE (DALL-E does the same
with a transformer over text and image tokens, Ramesh et al. 2021, Sec. 2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from genvision.autoregressive.code_prior import CodeMapPrior, CodePriorConfig
from genvision.dvae.token_grid import TokenDVAE
from genvision.errors import GenvisionError


@dataclass(frozen=True)
class TokenPriorConfig(CodePriorConfig):
    """dvae: checkpoint file, run folder or pretrained:NAME of a trained `dvae-tokens` model. The PixelCNN's
    fields: CodePriorConfig (configs stored before it call input_embedding `token_embedding`)."""

    RENAMED: ClassVar[dict[str, str]] = {"token_embedding": "input_embedding"}

    dvae: str = ""


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
                         input_embedding=config.input_embedding,
                         num_classes=num_classes if config.class_conditional else 0, temperature=config.temperature,
                         p_uncond=config.p_uncond if config.class_conditional else 0.0)
        self.config = config

    @property
    def dvae(self) -> TokenDVAE:
        return self.tokenizer
