"""VQ-VAE: encoder/decoder around a vector quantiser (stage 1) and a PixelCNN prior over code maps (stage 2)."""

from genvision.vqvae.model import VQVAE, VQVAEConfig
from genvision.vqvae.nets import Decoder, Encoder, ResidualStack
from genvision.vqvae.prior import VQVAEPrior, VQVAEPriorConfig

__all__ = ["VQVAE", "Decoder", "Encoder", "ResidualStack", "VQVAEConfig", "VQVAEPrior", "VQVAEPriorConfig"]
