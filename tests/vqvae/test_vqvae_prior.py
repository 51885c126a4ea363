"""VQVAEPrior: built from a saved VQ-VAE checkpoint through the registry builder, frozen first stage, the
learned-prior ELBO by hand, a few training steps lower the loss, seeded sampling is deterministic."""

import dataclasses
import math

import pytest
import torch

from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.loading import load_dependencies
from genvision.models import get_entry
from genvision.train.checkpoint import save_checkpoint
from genvision.vqvae import VQVAE, VQVAEConfig, VQVAEPriorConfig

TINY_VQ = VQVAEConfig(hidden=16, res_blocks=1, latent_dim=8, num_codes=16, downsample=1)
TINY_PRIOR = dict(hidden=8, layers=2, first_kernel=3, input_embedding=4)


@pytest.fixture
def vqvae_checkpoint(tmp_path):
    """A tiny (untrained) VQ-VAE for 8x8 digits saved as a checkpoint."""
    torch.manual_seed(0)
    vq = VQVAE(TINY_VQ, (1, 8, 8), 10)
    config = {"model": "vqvae", "model_config": dataclasses.asdict(TINY_VQ), "image_shape": [1, 8, 8],
              "num_classes": 10}
    return save_checkpoint(tmp_path / "vq.safetensors", step=0, config=config, model=vq.state_dict()), vq


def build_prior(cfg, image_shape, num_classes):
    """What the loader does at training time: load the declared first stage, hand it to the entry's build."""
    entry = get_entry("vqvae-prior")
    deps, _ = load_dependencies(entry, cfg)
    return entry.make(cfg, image_shape, num_classes, deps=deps)


def prior_of(path, **kw):
    torch.manual_seed(0)
    return build_prior(VQVAEPriorConfig(vqvae=str(path), **{**TINY_PRIOR, **kw}), (1, 8, 8), 10)


def test_builder_errors(vqvae_checkpoint, tmp_path):
    path, _ = vqvae_checkpoint
    with pytest.raises(GenvisionError, match="needs --vqvae"):
        build_prior(VQVAEPriorConfig(), (1, 8, 8), 10)
    with pytest.raises(GenvisionError, match="cannot load"):
        build_prior(VQVAEPriorConfig(vqvae=str(tmp_path / "missing")), (1, 8, 8), 10)
    with pytest.raises(GenvisionError, match="shape"):
        build_prior(VQVAEPriorConfig(vqvae=str(path)), (1, 16, 16), 10)
    with pytest.raises(GenvisionError, match="labelled"):
        build_prior(VQVAEPriorConfig(vqvae=str(path)), (1, 8, 8), 0)


def test_prior_holds_the_frozen_vqvae_and_a_categorical_pixelcnn(vqvae_checkpoint):
    path, vq = vqvae_checkpoint
    prior = prior_of(path).train()
    assert not prior.vqvae.training and prior.pixelcnn.training
    assert all(not p.requires_grad for p in prior.vqvae.parameters())
    assert prior.pixelcnn.config.levels == 16 and prior.pixelcnn.config.image_size == 4
    assert prior.num_classes == 10 and prior_of(path, class_conditional=False).num_classes == 0
    torch.testing.assert_close(prior.vqvae.quantizer.embedding, vq.quantizer.embedding)


def test_learned_prior_elbo_by_hand(vqvae_checkpoint):
    path, _ = vqvae_checkpoint
    prior = prior_of(path).eval()
    x = load_dataset("digits").float_images(torch.arange(4))
    labels = torch.tensor([0, 1, 2, 3])
    with torch.no_grad():
        idx = prior.vqvae.encode_indices(x)
        expected = prior.vqvae.reconstruction_nll(x, idx) - prior.pixelcnn.log_prob(idx, labels)
        torch.testing.assert_close(prior.nll(x, labels=labels), expected)
        # the uniform prior is the special case -log p(z) = h w log K
        uniform = prior.vqvae.reconstruction_nll(x, idx) + 16 * math.log(16)
        torch.testing.assert_close(prior.vqvae.nll(x), uniform)


def test_few_steps_lower_the_loss_and_sampling_is_deterministic(vqvae_checkpoint):
    path, _ = vqvae_checkpoint
    prior = prior_of(path)
    data = load_dataset("digits")
    batch = {"image": data.float_images(torch.arange(64)), "label": data.labels[:64]}
    before = prior.vqvae.state_dict()
    opt = torch.optim.Adam([p for p in prior.parameters() if p.requires_grad], lr=1e-2)
    prior.train()
    losses = []
    for _ in range(15):
        out = prior.loss(batch)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(out["loss"].item())
    assert set(out) == {"loss", "bits_per_code"}
    assert losses[-1] < 0.8 * losses[0]
    for k, v in prior.vqvae.state_dict().items():
        assert torch.equal(v, before[k]), f"the frozen VQ-VAE changed: {k}"
    prior.eval()
    labels = torch.arange(6) % 10
    a = prior.sample(6, labels=labels, generator=torch.Generator().manual_seed(3))
    b = prior.sample(6, labels=labels, generator=torch.Generator().manual_seed(3))
    assert a.shape == (6, 1, 8, 8) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b)
    cold = prior.sample(6, labels=labels, generator=torch.Generator().manual_seed(3), temperature=0.5)
    assert not torch.equal(a, cold)


def test_prior_with_label_dropout_samples_with_guidance(vqvae_checkpoint):
    path, _ = vqvae_checkpoint
    with pytest.raises(GenvisionError, match="p_uncond"):
        VQVAEPriorConfig(vqvae=str(path), class_conditional=False, p_uncond=0.1)
    plain = prior_of(path).eval()
    with pytest.raises(GenvisionError, match="label dropout"):
        plain.sample(2, labels=torch.tensor([0, 1]), guidance_weight=1.0)
    prior = prior_of(path, p_uncond=0.1).eval()
    assert prior.pixelcnn.config.p_uncond == 0.1 and prior.pixelcnn.null_label == 10
    with torch.no_grad():  # perturb the weights so the label and the null label give different logits
        for p in prior.pixelcnn.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    labels = torch.arange(8) % 10
    runs = {w: prior.sample(8, labels=labels, generator=torch.Generator().manual_seed(1), guidance_weight=w,
                            plausibility=0.0) for w in (0.0, 3.0)}
    again = prior.sample(8, labels=labels, generator=torch.Generator().manual_seed(1), guidance_weight=3.0,
                         plausibility=0.0)
    assert torch.equal(runs[3.0], again) and not torch.equal(runs[0.0], runs[3.0])
