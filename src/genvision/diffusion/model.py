"""A diffusion model: the UNet denoiser plus a noise schedule, trained with L_simple (Ho et al. 2020)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from genvision.diffusion.guidance import classifier_free_eps
from genvision.diffusion.guidance import guidance_weight as cfg_weight
from genvision.diffusion.parameterization import PREDICTIONS, model_output_to_eps_x0, training_target
from genvision.diffusion.samplers import ddim_sample, ddpm_sample
from genvision.diffusion.schedule import NoiseSchedule
from genvision.diffusion.unet import UNet, UNetConfig
from genvision.errors import GenvisionError


@dataclass(frozen=True)
class DDPMConfig:
    # denoiser (see UNetConfig)
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (7,)
    attention_heads: int = 1
    dropout: float = 0.0
    # diffusion
    schedule: str = "cosine"
    timesteps: int = 1000
    prediction: str = "eps"  # eps | x0 | v
    class_conditional: bool = False
    p_uncond: float = 0.1  # label dropout to the null class (Ho & Salimans 2022, Table 1)

    def __post_init__(self) -> None:
        if self.prediction not in PREDICTIONS:
            raise GenvisionError(f"prediction must be one of {PREDICTIONS}, got {self.prediction!r}")
        if self.schedule not in ("linear", "cosine"):
            raise GenvisionError(f"schedule must be linear or cosine, got {self.schedule!r}")
        if not 0.0 <= self.p_uncond < 1.0:
            raise GenvisionError(f"p_uncond must be in [0, 1), got {self.p_uncond}")

    def unet(self) -> UNetConfig:
        return UNetConfig(base_channels=self.base_channels, channel_mults=self.channel_mults,
                          num_res_blocks=self.num_res_blocks, attention_resolutions=self.attention_resolutions,
                          attention_heads=self.attention_heads, dropout=self.dropout)


@dataclass(frozen=True)
class DDPMSampleOptions:
    sampler: str = "ddim"  # ddim | ddpm
    steps: int = 50  # DDIM steps (DDPM always runs all T)
    eta: float = 0.0
    variance: str = "beta_tilde"  # DDPM: beta | beta_tilde
    clip_x0: bool = True
    guidance_weight: float | None = None  # CFG, paper convention (w)
    guidance_scale: float | None = None  # CFG, diffusers convention (s = 1 + w)
    guidance_lambda: float | None = None  # CFG, lecture convention (lam = 1 + w, in [0, 1])
    progress: bool = False


class DiffusionModel(nn.Module):
    """x0: (B, C, H, W) in [-1, 1]. Optional class conditioning with a null label for CFG."""

    def __init__(self, cfg: DDPMConfig, image_shape: tuple[int, int, int], num_classes: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes if cfg.class_conditional else 0
        c, h, _ = image_shape
        self.unet = UNet(c, h, cfg.unet(), num_classes=self.num_classes)
        self.schedule = NoiseSchedule.from_name(cfg.schedule, cfg.timesteps)

    @property
    def null_label(self) -> int:
        return self.num_classes

    def denoise(self, x_t: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
        """eps prediction, whatever the network's parameterisation. x_t: (B, C, H, W), t: (B,) int64."""
        out = self.unet(x_t, t, labels).float()
        return model_output_to_eps_x0(self.schedule, x_t, t, out, prediction=self.cfg.prediction).eps

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        x0 = batch["image"]
        b = x0.shape[0]
        t = torch.randint(0, self.schedule.num_timesteps, (b,), device=x0.device)
        noise = torch.randn_like(x0)
        x_t = self.schedule.q_sample(x0, t, noise)  # Eq. 4
        labels = None
        if self.num_classes > 0:
            labels = batch["label"]
            if self.cfg.p_uncond > 0:
                drop = torch.rand(b, device=x0.device) < self.cfg.p_uncond
                labels = torch.where(drop, torch.full_like(labels, self.null_label), labels)
        out = self.unet(x_t, t, labels).float()
        target = training_target(self.schedule, x0, noise, t, prediction=self.cfg.prediction)
        return {"loss": (out - target).pow(2).mean()}  # L_simple, Eq. 14

    def eps_fn(self, labels: Tensor | None, *, weight: float = 0.0):
        """The eps-function a sampler calls: conditional, guided or unconditional."""
        if labels is None or self.num_classes == 0:
            if labels is not None:
                raise GenvisionError("labels were given but this model is not class-conditional")
            if weight != 0.0:
                raise GenvisionError("classifier-free guidance needs a class-conditional model")
            return lambda x, t: self.denoise(x, t, None)
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise GenvisionError(f"labels must be in 0..{self.num_classes - 1}")
        return classifier_free_eps(self.denoise, labels, null_label=self.null_label, weight=weight)

    @torch.no_grad()
    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               sampler: str = "ddim", steps: int = 50, eta: float = 0.0, variance: str = "beta_tilde",
               clip_x0: bool = True, guidance_weight: float | None = None, guidance_scale: float | None = None,
               guidance_lambda: float | None = None, progress: bool = False, callback=None,
               eps_fn=None) -> Tensor:
        """(n, C, H, W) in [-1, 1]. eps_fn, when given, replaces the model's own (e.g. classifier guidance)."""
        w = cfg_weight(weight=guidance_weight, scale=guidance_scale, lam=guidance_lambda)
        fn = eps_fn if eps_fn is not None else self.eps_fn(labels, weight=w)
        device = next(self.parameters()).device
        shape = (n, *self.image_shape)
        if sampler == "ddim":
            return ddim_sample(fn, self.schedule, shape, steps=steps, eta=eta, clip_x0=clip_x0,
                               generator=generator, progress=progress, callback=callback, device=device)
        if sampler == "ddpm":
            return ddpm_sample(fn, self.schedule, shape, variance=variance, clip_x0=clip_x0,
                               generator=generator, progress=progress, callback=callback, device=device)
        raise GenvisionError(f"unknown sampler {sampler!r}; use ddim or ddpm")

