import math

import pytest
import torch
import torch.nn.functional as F

from genvision.data import binarize_dynamic, load_dataset
from genvision.dvae import mixture
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig, component_init_scale
from genvision.errors import GenvisionError
from genvision.eval.likelihood import bernoulli_nll

SHAPE = (1, 4, 4)


def _model(**kw) -> MixtureDVAE:
    torch.manual_seed(0)
    model = MixtureDVAE(MixtureDVAEConfig(components=3, hidden=8, **kw), SHAPE, 10)
    with torch.no_grad():
        model.prior_logits.copy_(torch.tensor([0.5, -0.2, 0.1]))  # a non-uniform p(k)
    return model


def _images(n: int = 5, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.where(torch.rand(n, *SHAPE, generator=g) < 0.4, 1.0, -1.0)


def test_exact_elbo_equals_sum_over_components_by_hand():
    model = _model()
    x = _images()
    out = model.loss({"image": x})
    q = torch.softmax(model.posterior_logits(x), 1)
    log_p = torch.log_softmax(model.prior_logits, 0)
    elbo = torch.zeros(x.shape[0])
    for k in range(3):
        z = F.one_hot(torch.full((x.shape[0],), k), 3).float()
        log_px = -bernoulli_nll(model.decode(z), (x > 0).float())
        elbo += q[:, k] * (log_px + log_p[k] - q[:, k].log())
    torch.testing.assert_close(out["loss"], -elbo.mean(), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(out["recon"] + out["kl"], out["loss"])
    assert out["tau"].item() == 0.0


def test_exact_elbo_with_style_by_hand():
    model = _model(style_dim=2)
    x = _images(3)
    torch.manual_seed(7)
    out = model.loss({"image": x})
    torch.manual_seed(7)
    eps = torch.randn(3 * 3, 2).view(3, 3, 2)  # the loss draws one s per (image, component), row-major
    feats = model.features(x)
    q = torch.softmax(model.posterior_logits(x), 1)
    log_p = torch.log_softmax(model.prior_logits, 0)
    elbo = torch.zeros(3)
    for k in range(3):
        z = F.one_hot(torch.full((3,), k), 3).float()
        mu, logvar = model.style_posterior(feats, z)
        s = mu + eps[:, k] * (0.5 * logvar).exp()
        log_px = -bernoulli_nll(model.decode(z, s), (x > 0).float())
        kl_s = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
        elbo += q[:, k] * (log_px - kl_s + log_p[k] - q[:, k].log())
    torch.testing.assert_close(out["loss"], -elbo.mean(), rtol=1e-5, atol=1e-4)


def test_nll_without_style_is_the_exact_marginal():
    model = _model()
    x = _images()
    log_p = torch.log_softmax(model.prior_logits, 0)
    terms = torch.stack([log_p[k] - bernoulli_nll(model.decode(F.one_hot(torch.full((5,), k), 3).float()),
                                                   (x > 0).float()) for k in range(3)])
    torch.testing.assert_close(model.nll(x), -torch.logsumexp(terms, 0), rtol=1e-6, atol=1e-4)
    # The ELBO is a lower bound on log p(x): the exact NLL is below the loss.
    assert model.nll(x).mean() <= model.eval().loss({"image": x})["loss"] + 1e-5


def test_nll_with_style_is_a_bound_tighter_than_the_elbo():
    model = _model(style_dim=2).eval()
    x = _images(8)
    g = torch.Generator().manual_seed(0)
    nll = model.nll(x, samples=50, generator=g)
    assert nll.shape == (8,) and torch.isfinite(nll).all()
    torch.manual_seed(0)
    elbo_loss = torch.stack([model.loss({"image": x})["loss"] for _ in range(20)]).mean()
    assert nll.mean() < elbo_loss
    again = model.nll(x, samples=50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(nll, again)


@pytest.mark.parametrize("estimator", ["exact", "gumbel", "st_gumbel"])
def test_loss_ignores_labels_and_steps_only_by_the_trainer(estimator):
    model, twin = _model(estimator=estimator), _model(estimator=estimator)
    x = _images()
    torch.manual_seed(1)
    a = model.loss({"image": x})
    torch.manual_seed(1)
    b = twin.loss({"image": x, "label": torch.arange(5)})
    assert torch.equal(a["loss"], b["loss"])
    assert int(model.step) == 0  # the loss never advances the schedule: the trainer does, per optimiser step
    model.on_optimizer_step()
    model.on_optimizer_step()
    assert int(model.step) == 2


def test_temperature_resumes_from_the_state_dict():
    model = _model(estimator="gumbel", tau_schedule="cosine", tau_min=0.1, anneal_steps=10)
    for _ in range(5):
        model.on_optimizer_step()
    assert model.loss({"image": _images()})["tau"].item() < 1.0
    fresh = _model(estimator="gumbel", tau_schedule="cosine", tau_min=0.1, anneal_steps=10)
    fresh.load_state_dict(model.state_dict())
    assert fresh.tau() == model.tau() == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 5 / 10)))


def test_sample_cluster_and_errors():
    model = _model().eval()
    g = torch.Generator().manual_seed(0)
    comps = torch.tensor([0, 1, 2, 2])
    x = model.sample(4, components=comps, generator=g)
    assert x.shape == (4, *SHAPE) and set(x.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(x, model.sample(4, components=comps, generator=torch.Generator().manual_seed(0)))
    mean = model.sample(4, components=comps, mean=True)
    torch.testing.assert_close(mean, 2 * torch.sigmoid(model.decode(F.one_hot(comps, 3).float())) - 1)
    assert model.sample(6, generator=g).shape == (6, *SHAPE)
    assert model.sample(6, labels=None, generator=g).shape == (6, *SHAPE)  # the Sampler signature
    assert torch.equal(model.cluster(_images()), model.posterior_logits(_images()).argmax(1))
    with pytest.raises(GenvisionError, match=r"components must be \(2,\) indices in \[0, 3\)"):
        model.sample(2, components=torch.tensor([0, 3]))
    with pytest.raises(GenvisionError, match="takes no class labels"):
        model.sample(2, labels=torch.tensor([0, 1]))
    with pytest.raises(GenvisionError, match="images must be"):
        model.loss({"image": torch.zeros(2, 1, 5, 5)})
    with pytest.raises(GenvisionError, match="estimator"):
        MixtureDVAEConfig(estimator="reinforce")


def test_components_are_a_capability_not_classes():
    """The mixture is a MixtureSampler (components, p(k)) and a Clusterer, not a class-conditional Sampler: grids
    lay out one column per component, evaluation draws no class labels for it, and its likelihood is p(x)."""
    from genvision.protocols import Clusterer, Likelihood, MixtureSampler, Sampler, labels_for, num_labels, sample_grid

    model = _model().eval()
    assert isinstance(model, MixtureSampler) and isinstance(model, Clusterer) and isinstance(model, Likelihood)
    assert isinstance(model, Sampler) and model.num_classes == 0 == num_labels(model)
    assert labels_for(model, 5) is None
    grid = sample_grid(model, 7)
    assert grid.columns == model.num_components == 3 and grid.per == "mixture component"
    assert grid.conditions.keys() == {"components"} and grid.conditions["components"].tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert model.sample(7, **grid.conditions).shape == (7, *SHAPE)


def test_conv_network_shapes():
    model = MixtureDVAE(MixtureDVAEConfig(components=3, network="conv", hidden=8, conv_channels=4, style_dim=2),
                        (1, 8, 8))
    x = torch.where(torch.rand(2, 1, 8, 8) < 0.5, 1.0, -1.0)
    assert torch.isfinite(model.loss({"image": x})["loss"])
    assert model.sample(3).shape == (3, 1, 8, 8)
    with pytest.raises(GenvisionError, match="divisible by 4"):
        MixtureDVAE(MixtureDVAEConfig(network="conv"), (1, 6, 6))


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits", split="train")
    return data.float_images()


@pytest.mark.parametrize("estimator", ["exact", "gumbel", "st_gumbel"])
def test_smoke_training_lowers_the_nll(digits, estimator):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = MixtureDVAE(MixtureDVAEConfig(components=4, hidden=32, estimator=estimator), (1, 8, 8))
    held = binarize_dynamic(digits[:256], generator=g)
    before = model.nll(held).mean()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        idx = torch.randint(0, digits.shape[0], (64,), generator=g)
        out = model.loss({"image": binarize_dynamic(digits[idx], generator=g)})
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    after = model.nll(held).mean()  # exact -log p(x): comparable across estimators
    assert after < 0.8 * before, (before, after)


def test_component_init_scale_shrinks_with_image_size(monkeypatch):
    """Large images need close components at init, else one wins every image (docs/dvae.md, Sec. 6)."""
    assert component_init_scale(64) == 1.0 and component_init_scale(16) == 1.0
    assert component_init_scale(784) == pytest.approx(8 / 28)

    def first_layer(scale: float) -> torch.Tensor:
        monkeypatch.setattr(mixture, "component_init_scale", lambda num_dims: scale)
        torch.manual_seed(0)
        return MixtureDVAE(MixtureDVAEConfig(components=10, style_dim=3), (1, 28, 28)).decoder[0][0].weight

    scaled, plain = first_layer(8 / 28), first_layer(1.0)
    torch.testing.assert_close(scaled[:, :10], plain[:, :10] * (8 / 28))
    torch.testing.assert_close(scaled[:, 10:], plain[:, 10:])  # the style columns keep the default init


def test_affine_style_warps_only():
    """style_decoder='affine': s = 0 (and the zero init) leaves the component image as it is; a pure shift
    theta = [[1, 0, t], [0, 1, 0]] moves it by t * W / 2 pixels (affine_grid's [-1, 1] coordinates)."""
    torch.manual_seed(0)
    model = MixtureDVAE(MixtureDVAEConfig(components=3, hidden=8, style_dim=6, style_decoder="affine"), (1, 8, 8))
    z = torch.eye(3)
    plain = model.decoder(z).float()
    torch.testing.assert_close(model.decode(z, torch.randn(3, 6)), plain, atol=1e-5, rtol=1e-5)  # A = 0 at init
    with torch.no_grad():
        model.to_affine.weight.zero_()
        model.to_affine.bias.copy_(torch.tensor([0.0, 0.0, 0.5, 0.0, 0.0, 0.0]))  # x_in = x_out + 0.5: 2 px
    shifted = model.decode(z, torch.zeros(3, 6))
    torch.testing.assert_close(shifted[..., :, :-2], plain[..., :, 2:], atol=1e-5, rtol=1e-5)
    assert model.decoder[0][0].in_features == 3  # the decoder never sees s
    out = model.loss({"image": torch.where(torch.rand(4, 1, 8, 8) < 0.3, 1.0, -1.0)})
    assert torch.isfinite(out["loss"]) and model.nll(torch.ones(2, 1, 8, 8), samples=3).shape == (2,)
    with pytest.raises(GenvisionError, match="style_dim"):
        MixtureDVAEConfig(style_decoder="affine")


def test_kl_warmup_weights_the_kl_from_zero():
    model = _model(kl_warmup=10).train()
    x = _images()
    first = model.loss({"image": x})
    assert first["beta"].item() == 0.0
    torch.testing.assert_close(first["loss"], first["recon"])
    for _ in range(10):
        model.on_optimizer_step()
    done = model.loss({"image": x})
    assert done["beta"].item() == 1.0
    torch.testing.assert_close(done["loss"], done["recon"] + done["kl"])


def test_usage_divergence_is_kl_of_the_batch_average_to_uniform():
    from genvision.dvae.mixture import usage_divergence

    assert usage_divergence(torch.zeros(4, 5)).item() == pytest.approx(0.0, abs=1e-6)  # uniform q
    one = torch.full((4, 5), -30.0)
    one[:, 2] = 30.0  # every image confidently in component 2
    assert usage_divergence(one).item() == pytest.approx(math.log(5), abs=1e-5)
    spread = torch.full((5, 5), -30.0).fill_diagonal_(30.0)  # each image its own component: q_bar uniform
    assert usage_divergence(spread).item() == pytest.approx(0.0, abs=1e-5)
    model = _model(usage_weight=2.0)
    out = model.loss({"image": _images()})
    torch.testing.assert_close(out["loss"], out["recon"] + out["kl"] + 2.0 * out["usage"])
