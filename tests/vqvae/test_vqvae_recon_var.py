"""The VQ-VAE's decoder variance for nll(): a running mean of the per-element squared error, updated in
training mode only: v <- v + (1 - decay) (mse - v)."""

import pytest
import torch

from genvision.vqvae import VQVAE, VQVAEConfig


def test_running_reconstruction_variance_update():
    torch.manual_seed(0)
    model = VQVAE(VQVAEConfig(hidden=16, res_blocks=1, latent_dim=8, num_codes=16, downsample=1, decay=0.9),
                  (1, 8, 8), 10)
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    model.eval()
    model.loss({"image": x})
    assert model.recon_var.item() == 1.0  # eval mode leaves it alone
    model.train()
    mse = model.loss({"image": x})["recon"].item()
    assert model.recon_var.item() == pytest.approx(0.9 * 1.0 + 0.1 * mse, rel=1e-6)
    before = model.recon_var.item()
    mse2 = model.loss({"image": x})["recon"].item()
    assert model.recon_var.item() == pytest.approx(0.9 * before + 0.1 * mse2, rel=1e-6)
