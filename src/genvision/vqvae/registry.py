"""Registry entries of the VQ-VAE family: `vqvae` (stage 1: the autoencoder) and `vqvae-prior` (stage 2: a
PixelCNN over the code maps of a trained `vqvae` run)."""

from __future__ import annotations

from dataclasses import dataclass

from genvision.autoregressive.model import check_sample_method
from genvision.config import option
from genvision.entry import BuildContext, ModelEntry, build_plain
from genvision.errors import GenvisionError
from genvision.vqvae.model import VQVAE, VQVAEConfig
from genvision.vqvae.prior import VQVAEPrior, VQVAEPriorConfig


@dataclass(frozen=True)
class VQVAEPriorSampleOptions:
    temperature: float | None = option(None, gt=0)  # None: the config's temperature
    method: str = option("fast", check=check_sample_method)  # fast (cached) | window | naive: identical samples
    guidance_weight: float = 0.0  # classifier-free guidance w over the codes (priors trained with p_uncond > 0)
    plausibility: float = option(0.01, min=0, max=1)  # with guidance: rule out codes p_c < alpha * max p_c


build_vqvae = build_plain(VQVAE)


def build_prior(cfg: VQVAEPriorConfig, ctx: BuildContext) -> VQVAEPrior:
    """The prior over the codes of ctx.deps["vqvae"], the frozen VQ-VAE the loader built (`requires`)."""
    vqvae, image_shape, num_classes = ctx.deps["vqvae"], ctx.image_shape, ctx.num_classes
    if tuple(vqvae.image_shape) != tuple(image_shape):
        raise GenvisionError(f"vqvae-prior: the VQ-VAE at {cfg.vqvae} codes images of shape {vqvae.image_shape}, "
                             f"the data have {tuple(image_shape)}")
    if cfg.class_conditional and num_classes == 0:
        raise GenvisionError("vqvae-prior: class_conditional=true needs labelled data "
                             "(pass --class_conditional=false)")
    return VQVAEPrior(vqvae, cfg, num_classes=num_classes if cfg.class_conditional else 0)


_TINY_TRAIN = {"steps": 20, "batch_size": 16, "val_every": 0, "ckpt_every": 0, "log_every": 5, "num_samples": 4,
               "data": "digits"}

VQVAE_ENTRY = ModelEntry(
    "vqvae", "VQ-VAE stage 1: encoder, vector quantiser (EMA codebook, restarts), decoder; no sampling",
    VQVAEConfig, build_vqvae,
    presets={
        "tiny": {"hidden": 16, "res_blocks": 1, "latent_dim": 8, "num_codes": 16, "downsample": 1, **_TINY_TRAIN},
        # ema_decay=0: the trainer's weight average would pair an averaged encoder with the latest codebook
        # (a buffer, copied not averaged); the codebook already is a moving average.
        "mnist": {"hidden": 64, "res_blocks": 2, "latent_dim": 16, "num_codes": 64, "downsample": 2,
                  "steps": 3000, "batch_size": 64, "lr": 2e-3, "warmup_steps": 100, "ema_decay": 0.0,
                  "bf16": True, "val_every": 500, "ckpt_every": 500, "data": "mnist5k"},
    },
    default_preset="mnist", figures=("reconstructions", "patch-vq"))

PRIOR_ENTRY = ModelEntry(
    "vqvae-prior", "VQ-VAE stage 2: class-conditional Gated PixelCNN over the code maps of a vqvae run",
    VQVAEPriorConfig, build_prior,
    presets={
        "tiny": {"vqvae": "runs/vqvae-digits", "hidden": 8, "layers": 2, "first_kernel": 3, "input_embedding": 4,
                 **_TINY_TRAIN},
        "mnist": {"vqvae": "runs/vqvae-mnist5k", "arch": "gated", "hidden": 64, "layers": 7, "input_embedding": 16,
                  "steps": 3000, "batch_size": 64, "lr": 1e-3, "warmup_steps": 100, "ema_decay": 0.999,
                  "val_every": 500, "ckpt_every": 500, "sample_every": 1000, "num_samples": 40,
                  "data": "mnist5k"},
    },
    default_preset="mnist", sample_options=VQVAEPriorSampleOptions,
    requires={"vqvae": "vqvae"}, figures=("reconstructions",))

ENTRIES = [VQVAE_ENTRY, PRIOR_ENTRY]
