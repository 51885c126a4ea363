"""Tiny models of each family for the lab's library functions (random weights: the functions are tested for
what they compute, not for pretty digits)."""

import pytest
import torch

from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel
from genvision.diffusion.model import DDPMConfig, DiffusionModel
from genvision.diffusion.noisy_classifier import NoisyClassifier, NoisyClassifierConfig
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig
from genvision.vqvae.model import VQVAE, VQVAEConfig

TINY_DDPM = dict(base_channels=8, channel_mults=(1, 2), num_res_blocks=1, attention_resolutions=(), timesteps=50)


@pytest.fixture
def cfg_model():
    torch.manual_seed(0)
    return DiffusionModel(DDPMConfig(**TINY_DDPM, class_conditional=True), (1, 8, 8), 3).eval()


@pytest.fixture
def ddpm_and_classifier():
    torch.manual_seed(0)
    model = DiffusionModel(DDPMConfig(**TINY_DDPM), (1, 8, 8), 0).eval()
    clf = NoisyClassifier(NoisyClassifierConfig(base_channels=8, channel_mults=(1, 2), timesteps=50), (1, 8, 8),
                          3).eval()
    return model, clf


@pytest.fixture
def pixelcnn():
    torch.manual_seed(0)
    return PixelCNNModel(PixelCNNConfig(arch="gated", image_size=6, hidden=8, layers=2, num_classes=3,
                                        p_uncond=0.1)).eval()


@pytest.fixture
def vqvae():
    torch.manual_seed(0)
    return VQVAE(VQVAEConfig(hidden=8, res_blocks=1, latent_dim=4, num_codes=8), (1, 8, 8), 0).eval()


@pytest.fixture
def dvae():
    torch.manual_seed(0)
    return MixtureDVAE(MixtureDVAEConfig(components=4, hidden=16), (1, 8, 8)).eval()
