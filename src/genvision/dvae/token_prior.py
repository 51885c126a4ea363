"""The second stage of a token-grid dVAE: an autoregressive prior over its token maps.

As for a VQ-VAE (van den Oord et al. 2017, Sec. 3.2) the dVAE is trained first with a uniform prior over
codes, then frozen; a PixelCNN learns p(tokens [| class]) over the argmax token maps of the training
images. Sampling draws a token map from the PixelCNN and decodes it with the dVAE (DALL-E does the same
with a transformer over text and image tokens, Ramesh et al. 2021, Sec. 2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel
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


def load_token_dvae(path: str) -> TokenDVAE:
    """The frozen dVAE of a `dvae-tokens` checkpoint (EMA weights), in eval mode."""
    from genvision.models import load_model  # the registry imports this module

    if not path:
        raise GenvisionError("TokenPrior needs --dvae=PATH: a checkpoint or run folder of a dvae-tokens model")
    model, _ = load_model(path)
    if not isinstance(model, TokenDVAE):
        raise GenvisionError(f"{path}: expected a dvae-tokens checkpoint, got a {type(model).__name__}")
    return model


class TokenPrior(nn.Module):
    """p(x) = sum over token maps of PixelCNN(tokens [| y]) * decoder; trained on encoded images.

    The frozen dVAE is a submodule (its weights travel in the prior's checkpoints) kept in eval mode.
    """

    def __init__(self, config: TokenPriorConfig, image_shape: tuple[int, int, int], num_classes: int,
                 *, dvae: TokenDVAE | None = None) -> None:
        super().__init__()
        self.config = config
        dvae = dvae if dvae is not None else load_token_dvae(config.dvae)
        if tuple(image_shape) != dvae.image_shape:
            raise GenvisionError(f"TokenPrior: the data's images are {tuple(image_shape)} but the dVAE "
                                 f"{config.dvae!r} was trained on {dvae.image_shape}")
        if config.class_conditional and num_classes < 1:
            raise GenvisionError("TokenPrior: class_conditional=True needs labelled data")
        self.dvae = dvae.requires_grad_(False).eval()
        h, w = dvae.grid_shape
        if h != w:
            raise GenvisionError(f"TokenPrior: the PixelCNN needs a square token grid, got {h}x{w}")
        self.prior = PixelCNNModel(PixelCNNConfig(
            arch=config.arch, image_channels=1, image_size=h, hidden=config.hidden, layers=config.layers,
            output="categorical", levels=dvae.num_codes, first_kernel=config.first_kernel,
            input_embedding=config.token_embedding,
            num_classes=num_classes if config.class_conditional else 0,
        ))

    @property
    def num_classes(self) -> int:
        return self.prior.num_classes

    def train(self, mode: bool = True) -> TokenPrior:
        super().train(mode)
        self.dvae.eval()  # frozen: never in training mode (its temperature step must not move)
        return self

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """{"loss": -log p(tokens [| label]) in nats per token map, "bits_per_token"}; batch["image"]
        (B, C, H, W) in [-1, 1] is tokenised by the frozen dVAE, batch["label"] read if conditional."""
        tokens = self.dvae.encode_indices(batch["image"])  # no_grad inside
        out = self.prior.loss({"indices": tokens, **({"label": batch["label"]} if "label" in batch else {})})
        return {"loss": out["loss"], "bits_per_token": out["bpd"]}

    @torch.no_grad()
    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> Tensor:
        """n images (n, C, H, W) in [-1, 1]: tokens from the PixelCNN (labels (n,) if class-conditional),
        decoded by the dVAE. temperature scales the PixelCNN's logits (1 = the model)."""
        tokens = self.prior.sample_indices(n, labels=labels, generator=generator, temperature=temperature)
        return self.dvae.decode_indices(tokens)
