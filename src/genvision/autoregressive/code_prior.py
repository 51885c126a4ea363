"""A learned prior over the code maps of a frozen tokenizer (VQ-VAE codes, dVAE tokens): the second stage of
two-stage generation (van den Oord et al. 2017, Sec. 3.2; Ramesh et al. 2021, Sec. 2.2).

The tokenizer is any module with `encode_indices(x) -> (B, h, w)` and `decode_indices(idx) -> (B, C, H, W)`;
a categorical PixelCNN learns p(code map [| class]). A uniform prior makes every one of the K^(h w) maps equally
likely, so its samples decode to noise; the PixelCNN learns which codes follow which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel, SampleMethod
from genvision.errors import GenvisionError
from genvision.protocols import ReconstructionLikelihood


@dataclass(frozen=True)
class CodePriorConfig:
    """The prior over a frozen tokenizer's code maps, for any tokenizer (VQ-VAE codes, dVAE tokens).

    arch/hidden/layers/first_kernel: the PixelCNN over code maps; input_embedding: the width of the learned
    embedding of each input code; class_conditional: p(codes | class); temperature: the default for sample();
    p_uncond > 0 (class-conditional only): label dropout to a null label, so sample() can use classifier-free
    guidance (guidance_weight), as for the pixel PixelCNN.
    Each family's prior adds one field only, the path of its first stage (`vqvae`, `dvae`), which the loader
    reads at training time (the entry's `requires`). RENAMED: old key -> field, for configs stored earlier.
    """

    RENAMED: ClassVar[dict[str, str]] = {}

    arch: Literal["pixelcnn", "gated"] = "gated"
    hidden: int = 64
    layers: int = 7
    first_kernel: int = 7
    input_embedding: int = 16
    class_conditional: bool = True
    temperature: float = 1.0
    p_uncond: float = 0.0

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise GenvisionError(f"{type(self).__name__}.temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.p_uncond < 1.0:
            raise GenvisionError(f"{type(self).__name__}.p_uncond must be in [0, 1), got {self.p_uncond}")
        if self.p_uncond > 0 and not self.class_conditional:
            raise GenvisionError(f"{type(self).__name__}.p_uncond > 0 needs class_conditional=true")


class CodeMapPrior(nn.Module):
    """A frozen tokenizer (kept in eval mode, its weights saved with the prior) + a PixelCNN over its codes."""

    def __init__(self, tokenizer: nn.Module, *, num_codes: int, code_shape: tuple[int, int], arch: str,
                 hidden: int, layers: int, first_kernel: int, input_embedding: int, num_classes: int = 0,
                 temperature: float = 1.0, p_uncond: float = 0.0) -> None:
        super().__init__()
        h, w = code_shape
        if h != w:
            raise GenvisionError(f"the PixelCNN prior needs square code maps, the tokenizer gives {h}x{w}")
        if temperature <= 0:
            raise GenvisionError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature
        self.tokenizer = tokenizer.eval().requires_grad_(False)
        self.pixelcnn = PixelCNNModel(PixelCNNConfig(
            arch=arch, image_channels=1, image_size=h, hidden=hidden, layers=layers, output="categorical",
            levels=num_codes, num_classes=num_classes, first_kernel=first_kernel, input_embedding=input_embedding,
            p_uncond=p_uncond if num_classes > 0 else 0.0))

    @property
    def num_classes(self) -> int:
        return self.pixelcnn.num_classes

    def train(self, mode: bool = True) -> CodeMapPrior:
        """Only the PixelCNN trains; the tokenizer stays in eval mode (no codebook or temperature updates)."""
        super().train(mode)
        self.tokenizer.eval()
        return self

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) in [-1, 1] -> code map (B, h, w) int64, in float32 even under autocast so that
        training, sampling and nll() see the same codes."""
        with torch.autocast(x.device.type, enabled=False):
            return self.tokenizer.encode_indices(x.float())

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """{"loss": -log p(code map [| label]) in nats per map, "bits_per_code"}; batch {"image"[, "label"]}."""
        indices = self.encode(batch["image"])
        out = self.pixelcnn.loss({"indices": indices, **({"label": batch["label"]} if "label" in batch else {})})
        return {"loss": out["loss"], "bits_per_code": out["bpd"]}

    @torch.no_grad()
    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               temperature: float | None = None, method: SampleMethod = "fast", guidance_weight: float = 0.0,
               plausibility: float = 0.0) -> Tensor:
        """n images (n, C, H, W) in [-1, 1]: code maps from the PixelCNN (labels (n,) if class-conditional;
        temperature None = the configured default; guidance_weight/plausibility: classifier-free guidance over
        the codes' logits, for a prior trained with p_uncond > 0), decoded by the tokenizer."""
        t = self.temperature if temperature is None else temperature
        indices = self.pixelcnn.sample_indices(n, labels=labels, generator=generator, temperature=t, method=method,
                                               guidance_weight=guidance_weight, plausibility=plausibility)
        return self.tokenizer.decode_indices(indices)

    def nll(self, x: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Negative ELBO in nats per image (B,) with the learned prior: -log p(x | z) - log p_prior(z), z the
        one-hot (deterministic) encoding, so q(z | x) has zero entropy. Needs tokenizer.reconstruction_nll."""
        if not isinstance(self.tokenizer, ReconstructionLikelihood):
            raise GenvisionError(f"{type(self.tokenizer).__name__} has no reconstruction likelihood")
        indices = self.encode(x)
        prior = -self.pixelcnn.log_prob({"indices": indices}, labels=labels)
        return self.tokenizer.reconstruction_nll(x, indices) + prior
