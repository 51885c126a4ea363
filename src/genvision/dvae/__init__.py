"""Discrete VAEs: Gumbel-softmax, a categorical (mixture) VAE, and a DALL-E style token-grid dVAE with a
PixelCNN prior over its tokens. See docs/dvae.md."""

from genvision.dvae.figures import clustering_report, component_rows
from genvision.dvae.gumbel import (
    cosine_warmup,
    gumbel_softmax,
    kl_categorical,
    kl_categorical_uniform,
    sample_gumbel,
    tau_cosine,
    tau_exponential,
)
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig
from genvision.dvae.token_grid import TokenDVAE, TokenDVAEConfig
from genvision.dvae.token_prior import TokenPrior, TokenPriorConfig

__all__ = [
    "MixtureDVAE",
    "MixtureDVAEConfig",
    "TokenDVAE",
    "TokenDVAEConfig",
    "TokenPrior",
    "TokenPriorConfig",
    "clustering_report",
    "component_rows",
    "cosine_warmup",
    "gumbel_softmax",
    "kl_categorical",
    "kl_categorical_uniform",
    "sample_gumbel",
    "tau_cosine",
    "tau_exponential",
]
