"""Registry entries of the discrete-VAE family: `dvae-mixture`, `dvae-tokens`, `dvae-tokens-prior`.

The prior's presets read the dVAE from the run folder that `genvision train dvae-tokens` writes with the
same preset's data by default (runs/dvae-tokens-<data>); pass --dvae=PATH for another.
"""

from __future__ import annotations

from dataclasses import dataclass

from genvision.config import option
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig
from genvision.dvae.token_grid import TokenDVAE, TokenDVAEConfig
from genvision.dvae.token_prior import TokenPrior, TokenPriorConfig
from genvision.entry import BuildContext, ModelEntry, build_plain


@dataclass(frozen=True)
class MixtureSampleOptions:
    mean: bool = False  # True: the Bernoulli means 2 p - 1 instead of binary draws


@dataclass(frozen=True)
class TokenPriorSampleOptions:
    temperature: float = option(1.0, gt=0)  # scales the PixelCNN's logits over codes
    guidance_weight: float = 0.0  # classifier-free guidance w over the tokens (priors trained with p_uncond > 0)
    plausibility: float = option(0.01, min=0, max=1)  # with guidance: rule out tokens p_c < alpha * max p_c


_build_mixture = build_plain(MixtureDVAE)
_build_tokens = build_plain(TokenDVAE)


def _build_prior(cfg: TokenPriorConfig, ctx: BuildContext) -> TokenPrior:
    """The prior over the token maps of ctx.deps["dvae"], the frozen dVAE the loader built (`requires`)."""
    return TokenPrior(cfg, ctx.image_shape, ctx.num_classes, dvae=ctx.deps["dvae"])


_TINY_TRAIN = {"binarize": "dynamic", "data": "digits", "steps": 20, "batch_size": 16, "val_every": 0,
               "ckpt_every": 0, "log_every": 5}
_MNIST_TRAIN = {"binarize": "dynamic", "data": "mnist5k", "batch_size": 64, "lr": 1e-3, "warmup_steps": 100,
                "ema_decay": 0.999, "val_every": 500, "ckpt_every": 500}

# Step counts from step times measured on 2 shared CPU cores (docs/dvae.md, "Presets"), to fit
# well under 10 minutes each unloaded: mixture ~10-15 ms/step, token dVAE ~45 ms/step, prior ~95 ms/step.
# grad_clip 0: these sum-over-pixels gradients have norms of 10-500, so a clip at 1 rescales every step; before
# the component init was scaled (docs/dvae.md, Sec. 6) it tipped a run into collapse.
_MIXTURE_MNIST = {**_MNIST_TRAIN, "components": 10, "hidden": 256, "estimator": "exact", "steps": 8000,
                  "grad_clip": 0.0, "val_every": 1000, "ckpt_every": 1000, "num_samples": 100}
# The clustering preset: a 6-d style that can only warp a component (docs/dvae.md, Sec. 6b) and the batch
# usage term (Sec. 6c), which the relaxed estimators need (else every image goes to one component) and which
# lifts the exact estimator from 74% to 93% clustering accuracy at K = 10 (Sec. 9).
_MIXTURE_AFFINE = {**_MIXTURE_MNIST, "style_dim": 6, "style_decoder": "affine", "usage_weight": 20.0}
_RELAXED = {"tau_min": 0.5, "tau_rate": 3e-4}  # Jang et al.'s exponential annealing, to 0.5
_TOKENS_MNIST = {**_MNIST_TRAIN, "codes": 64, "hidden": 32, "embed_dim": 32, "downsamples": 2,
                 "anneal_steps": 2000, "kl_warmup": 500, "steps": 4000}
# p_uncond 0.1: label dropout, so the prior's samples can use classifier-free guidance over the tokens (issue 17:
# without it class 8 was recognised in 74% of samples).
_PRIOR_MNIST = {**_MNIST_TRAIN, "dvae": "runs/dvae-tokens-mnist5k", "arch": "gated", "hidden": 64, "layers": 7,
                "class_conditional": True, "p_uncond": 0.1, "steps": 3000, "sample_every": 1000, "num_samples": 40}

ENTRIES = [
    ModelEntry(
        "dvae-mixture", "categorical VAE: a learned mixture of K decoders (exact / Gumbel / straight-through)",
        MixtureDVAEConfig, _build_mixture,
        presets={
            "tiny": {**_TINY_TRAIN, "components": 4, "hidden": 32, "num_samples": 8},
            "mnist": _MIXTURE_AFFINE,
            "mnist-gumbel": {**_MIXTURE_AFFINE, **_RELAXED, "estimator": "gumbel"},
            "mnist-st": {**_MIXTURE_AFFINE, **_RELAXED, "estimator": "st_gumbel"},
            # DALL-E's annealing: cosine from 1 to 1/16 over the run
            "mnist-gumbel-cosine": {**_MIXTURE_AFFINE, "estimator": "gumbel", "tau_schedule": "cosine",
                                    "tau_min": 1 / 16, "anneal_steps": 8000},
            "mnist-plain": _MIXTURE_MNIST,
            "mnist-style": {**_MIXTURE_MNIST, "style_dim": 16},
        },
        default_preset="mnist", sample_options=MixtureSampleOptions, figures=("components",)),
    ModelEntry(
        "dvae-tokens", "DALL-E style dVAE: a 7x7 grid of K-way Gumbel-softmax tokens (a tokenizer; no sample)",
        TokenDVAEConfig, _build_tokens,
        presets={
            "tiny": {**_TINY_TRAIN, "codes": 16, "hidden": 8, "embed_dim": 8, "anneal_steps": 20, "kl_warmup": 5},
            "mnist": _TOKENS_MNIST,
        },
        default_preset="mnist", figures=("reconstructions",)),
    ModelEntry(
        "dvae-tokens-prior", "Gated PixelCNN prior over a trained dvae-tokens model's token maps",
        TokenPriorConfig, _build_prior,
        presets={
            "tiny": {**_TINY_TRAIN, "dvae": "runs/dvae-tokens-digits", "hidden": 8, "layers": 2,
                     "first_kernel": 3, "num_samples": 4},
            "mnist": _PRIOR_MNIST,
        },
        default_preset="mnist", sample_options=TokenPriorSampleOptions, requires={"dvae": "dvae-tokens"},
        figures=("reconstructions",)),
]
