"""VQVAE: shapes for 28x28 / 32x32 / 8x8, the loss terms of Eq. 3, the uniform-prior ELBO by hand, encoding
never touches the codebook, and a short training on 8x8 digits that lowers the reconstruction error."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.eval.likelihood import discretized_gaussian_log_likelihood
from genvision.vqvae import VQVAE, VQVAEConfig

TINY = dict(hidden=16, res_blocks=1, latent_dim=8, num_codes=16, downsample=1)


def tiny(shape=(1, 8, 8), **kw):
    torch.manual_seed(0)
    return VQVAE(VQVAEConfig(**{**TINY, **kw}), shape, 10)


@pytest.mark.parametrize("shape,latent", [((1, 28, 28), (7, 7)), ((3, 32, 32), (8, 8))])
def test_shapes_with_two_downsamplings(shape, latent):
    torch.manual_seed(0)
    model = VQVAE(VQVAEConfig(hidden=8, res_blocks=1, latent_dim=4, num_codes=8), shape, 0).eval()
    x = torch.rand(2, *shape) * 2 - 1
    idx = model.encode_indices(x)
    assert idx.shape == (2, *latent) and idx.dtype == torch.int64
    assert 0 <= int(idx.min()) and int(idx.max()) < 8
    images = model.decode_indices(idx)
    assert images.shape == (2, *shape) and images.min() >= -1 and images.max() <= 1
    assert torch.equal(model.reconstruct(x), images)
    assert model.num_classes == 0 and not hasattr(model, "sample")


def test_bad_sizes_are_errors():
    with pytest.raises(GenvisionError, match="divisible by 4"):
        VQVAE(VQVAEConfig(), (1, 30, 30), 0)
    with pytest.raises(GenvisionError, match="expects images"):
        tiny().encode_indices(torch.zeros(1, 1, 6, 6))
    with pytest.raises(GenvisionError):
        VQVAEConfig(recon="l1")


@pytest.mark.parametrize("ema", [True, False])
def test_loss_terms(ema):
    model = tiny(ema=ema, beta=0.5).eval()
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    out = model.loss({"image": x})
    assert set(out) == {"loss", "recon", "vq", "perplexity", "usage"}
    recon = F.mse_loss(model.decoder(model.quantizer.lookup(model.encode_indices(x))), x)
    assert out["recon"].item() == pytest.approx(recon.item(), rel=1e-5)
    q = model.quantizer(model.encoder(x))
    assert out["vq"].item() == pytest.approx((0.5 if ema else 1.5) * q.commitment_loss.item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx(out["recon"].item() + out["vq"].item(), rel=1e-6)


def test_uniform_prior_elbo_by_hand():
    model = tiny().eval()
    model.recon_var.fill_(0.05)
    x = torch.round((torch.rand(3, 1, 8, 8) * 2 - 1) * 127.5) / 127.5
    with torch.no_grad():
        means = model.decoder(model.quantizer.lookup(model.encode_indices(x)))
        ll = discretized_gaussian_log_likelihood(x, means=means, log_scales=torch.tensor(0.5 * math.log(0.05)))
        expected = -ll.sum((1, 2, 3)) + 16 * math.log(16)  # 4x4 codes, log K nats each
        torch.testing.assert_close(model.nll(x), expected)


def test_bernoulli_reconstruction_nll_by_hand():
    model = tiny(recon="bernoulli").eval()
    x = torch.rand(2, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        idx = model.encode_indices(x)
        logits = model.decoder(model.quantizer.lookup(idx)).double().numpy()
        b = (x > 0).double().numpy()
        p = 1 / (1 + np.exp(-logits))
        expected = -(b * np.log(p) + (1 - b) * np.log(1 - p)).sum((1, 2, 3)) + 16 * math.log(16)
        np.testing.assert_allclose(model.nll(x).numpy(), expected, rtol=1e-5)
        assert model.decode_indices(idx).min() >= -1


def test_encoding_in_training_mode_leaves_the_codebook_alone():
    model = tiny().train()
    before = model.quantizer.embedding.clone()
    model.encode_indices(torch.rand(4, 1, 8, 8))
    assert torch.equal(model.quantizer.embedding, before)
    model.loss({"image": torch.rand(4, 1, 8, 8)})
    assert not torch.equal(model.quantizer.embedding, before)  # the EMA codebook moves in loss()


def test_short_training_on_digits_lowers_the_reconstruction_error():
    data = load_dataset("digits")
    model = tiny()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    recon = []
    for _ in range(60):
        x = data.float_images(torch.randint(len(data), (32,), generator=g))
        out = model.loss({"image": x})
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        recon.append(out["recon"].item())
    assert np.mean(recon[-10:]) < 0.6 * np.mean(recon[:5])
    assert out["usage"].item() > 0.25  # restarts keep codes alive
