"""The noise-aware classifier p_φ(y | x_t, t) of classifier guidance (Dhariwal & Nichol 2021, Sec. 4).

It is the UNet's encoder half with time conditioning and an attention-pooling-free head (GN, SiLU,
global average pool, linear), trained with cross-entropy on q_sample(x_0, t) over all t.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.config import option
from genvision.diffusion.schedule import NoiseSchedule
from genvision.diffusion.unet import UNetConfig, UNetEncoder
from genvision.errors import GenvisionError
from genvision.nn.blocks import TimeEmbedding, group_norm


@dataclass(frozen=True)
class NoisyClassifierConfig:
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    num_res_blocks: int = 1
    attention_resolutions: tuple[int, ...] = ()
    dropout: float = option(0.0, min=0, lt=1)
    # must match the diffusion model it guides
    schedule: str = "cosine"
    timesteps: int = option(1000, min=2)


class NoisyClassifier(nn.Module):
    """forward(x_t: (B, C, H, W), t: (B,) int64) -> logits (B, num_classes)."""

    def __init__(self, cfg: NoisyClassifierConfig, image_shape: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise GenvisionError("the noisy classifier needs a labelled dataset (>= 2 classes)")
        self.cfg = cfg
        self.num_classes_out = num_classes
        unet_cfg = UNetConfig(base_channels=cfg.base_channels, channel_mults=cfg.channel_mults,
                              num_res_blocks=cfg.num_res_blocks, attention_resolutions=cfg.attention_resolutions,
                              dropout=cfg.dropout)
        emb_dim = 4 * cfg.base_channels
        self.time_embed = TimeEmbedding(cfg.base_channels, emb_dim)
        self.encoder = UNetEncoder(image_shape[0], image_shape[1], unet_cfg, emb_dim)
        self.out_norm = group_norm(self.encoder.out_channels)
        self.head = nn.Linear(self.encoder.out_channels, num_classes)
        self.schedule = NoiseSchedule.from_name(cfg.schedule, cfg.timesteps)

    def forward(self, x_t: Tensor, t: Tensor) -> Tensor:
        h, _ = self.encoder(x_t, self.time_embed(t))
        return self.head(F.silu(self.out_norm(h)).mean(dim=(2, 3)))

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        x0, y = batch["image"], batch["label"]
        t = torch.randint(0, self.schedule.num_timesteps, (x0.shape[0],), device=x0.device)
        logits = self(self.schedule.q_sample(x0, t, torch.randn_like(x0)), t).float()
        return {"loss": F.cross_entropy(logits, y), "accuracy": (logits.argmax(1) == y).float().mean()}

    @torch.no_grad()
    def accuracy_by_timestep(self, x0: Tensor, y: Tensor, timesteps: list[int], *,
                             generator: torch.Generator | None = None) -> list[float]:
        """Accuracy on q_sample(x0, t) for each t (the diagnostic table/plot)."""
        out = []
        for t in timesteps:
            tt = torch.full((x0.shape[0],), t, dtype=torch.long, device=x0.device)
            noise = torch.randn(x0.shape, generator=generator, device=x0.device)
            logits = self(self.schedule.q_sample(x0, tt, noise), tt)
            out.append(float((logits.argmax(1) == y).float().mean()))
        return out


def _build(cfg: NoisyClassifierConfig, image_shape, num_classes: int) -> NoisyClassifier:
    return NoisyClassifier(cfg, image_shape, num_classes)
