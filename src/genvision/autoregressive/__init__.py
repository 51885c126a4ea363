"""Autoregressive image models: masked convolutions, PixelCNN, Gated PixelCNN, exact likelihood, sampling."""

from genvision.autoregressive.distributions import Bernoulli, Categorical, DiscretizedLogisticMixture
from genvision.autoregressive.gated import GatedPixelCNN
from genvision.autoregressive.masked_conv import HorizontalConv2d, MaskedConv2d, VerticalConv2d, causal_mask
from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel
from genvision.autoregressive.pixelcnn import PixelCNN
from genvision.autoregressive.sampling import ReceptiveField, sample_pixels

__all__ = [
    "Bernoulli",
    "Categorical",
    "DiscretizedLogisticMixture",
    "GatedPixelCNN",
    "HorizontalConv2d",
    "MaskedConv2d",
    "PixelCNN",
    "PixelCNNConfig",
    "PixelCNNModel",
    "ReceptiveField",
    "VerticalConv2d",
    "causal_mask",
    "sample_pixels",
]
