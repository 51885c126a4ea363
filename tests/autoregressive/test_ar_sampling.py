"""Samplers: the cached step equals the full network; fast, window and naive give identical samples for
the same generator; completion keeps the observed rows; a constant model samples its own probabilities."""

import pytest
import torch

from genvision.autoregressive import PixelCNNConfig, PixelCNNModel
from genvision.autoregressive.model import SampleMethod


def tiny(arch="pixelcnn", output="bernoulli", channels=1, **kw):
    torch.manual_seed(0)
    hidden = 12 if channels == 3 else 8
    cfg = PixelCNNConfig(
        arch=arch,
        image_channels=channels,
        image_size=6,
        hidden=hidden,
        layers=2,
        output=output,
        levels=4,
        **kw,
    )
    return PixelCNNModel(cfg).eval()


CASES = [
    ("pixelcnn", "bernoulli", 1),
    ("gated", "bernoulli", 1),
    ("pixelcnn", "categorical", 3),
    ("gated", "categorical", 3),
    ("gated", "logistic_mixture", 3),
]


@pytest.mark.parametrize("arch,output,channels", CASES)
def test_stepper_equals_full_network(arch, output, channels):
    model = tiny(arch, output, channels, num_classes=3, cond_channels=2)
    labels, cond = torch.tensor([0, 2]), torch.randn(2, 2, 6, 6)
    x = model.to_input(model.values(torch.rand(2, channels, 6, 6) * 2 - 1))
    with torch.no_grad():
        full = model.net(x, labels=labels, cond_map=cond)
        step = model.net.stepper(torch.zeros_like(x), labels=labels, cond_map=cond)  # primed on a blank image
        for i in range(6):
            for j in range(6):
                torch.testing.assert_close(step(x, i, j), full[:, :, i, j], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("arch,output,channels", CASES)
def test_fast_window_naive_samples_identical(arch, output, channels):
    model = tiny(arch, output, channels, num_classes=3)
    labels = torch.tensor([0, 1, 2])
    samples = {}
    for method in ("fast", "window", "naive"):
        g = torch.Generator().manual_seed(7)
        samples[method] = model.sample(3, labels=labels, generator=g, method=method)
        assert samples[method].shape == (3, channels, 6, 6)
        assert samples[method].min() >= -1 and samples[method].max() <= 1
    assert torch.equal(samples["fast"], samples["naive"])
    assert torch.equal(samples["window"], samples["naive"])
    assert samples["fast"].unique().numel() > 1
    other = model.sample(3, labels=labels, generator=torch.Generator().manual_seed(8))
    assert not torch.equal(other, samples["fast"])


def test_code_map_sampling_with_cond_map():
    torch.manual_seed(0)
    cfg = PixelCNNConfig(
        arch="gated",
        image_size=5,
        hidden=8,
        layers=2,
        output="categorical",
        levels=7,
        input_embedding=3,
        cond_channels=2,
    )
    model = PixelCNNModel(cfg).eval()
    cond = torch.randn(2, 2, 5, 5)
    fast = model.sample_indices(2, cond_map=cond, generator=torch.Generator().manual_seed(0))
    assert fast.dtype == torch.int64 and fast.shape == (2, 5, 5) and 0 <= fast.min() and fast.max() < 7
    for method in ("window", "naive"):
        other = model.sample_indices(
            2, cond_map=cond, generator=torch.Generator().manual_seed(0), method=method
        )
        assert torch.equal(fast, other)


@pytest.mark.parametrize("method", ["fast", "naive"])
def test_completion_keeps_observed_rows(method: SampleMethod):
    model = tiny("gated", num_classes=2)
    x = torch.randint(0, 2, (2, 1, 6, 6)).float() * 2 - 1
    out = model.complete(
        x,
        observed_rows=3,
        n_samples=4,
        labels=torch.tensor([0, 1]),
        generator=torch.Generator().manual_seed(0),
        method=method,
    )
    assert out.shape == (2, 4, 1, 6, 6)
    assert torch.equal(out[:, :, :, :3], x[:, None, :, :3].expand(-1, 4, -1, -1, -1))
    assert not torch.equal(out[:, 0, :, 3:], out[:, 1, :, 3:])  # the rest is sampled
    full = model.complete(x, observed_rows=6, n_samples=1, labels=torch.tensor([0, 1]))
    assert torch.equal(full[:, 0], x)


def test_completion_fast_equals_naive():
    model = tiny("pixelcnn", "categorical", 3)
    x = torch.rand(1, 3, 6, 6) * 2 - 1
    a = model.complete(x, observed_rows=2, n_samples=3, generator=torch.Generator().manual_seed(3))
    b = model.complete(
        x, observed_rows=2, n_samples=3, generator=torch.Generator().manual_seed(3), method="naive"
    )
    assert torch.equal(a, b)


def constant_head(model, bias):
    last = model.net.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.as_tensor(bias))


def test_constant_bernoulli_model_samples_its_probability():
    model = tiny("pixelcnn")
    p = 0.7
    constant_head(model, [torch.logit(torch.tensor(p)).item()])
    x = model.sample(200, generator=torch.Generator().manual_seed(0))  # 7200 pixels, sd of the mean 0.0054
    assert ((x > 0).float().mean() - p).abs() < 0.025
    cold = model.sample(200, generator=torch.Generator().manual_seed(1), temperature=0.5)
    p_cold = torch.sigmoid(2 * torch.logit(torch.tensor(p)))  # sigmoid(logit / T) = 0.845
    assert ((cold > 0).float().mean() - p_cold).abs() < 0.025
    lp = model.log_prob(x)
    expected = (x > 0).sum((1, 2, 3)) * torch.log(torch.tensor(p)) + (x < 0).sum((1, 2, 3)) * torch.log(
        torch.tensor(1 - p)
    )
    torch.testing.assert_close(lp, expected)


def test_constant_categorical_model_samples_its_probabilities():
    model = tiny("gated", "categorical")
    logits = torch.tensor([0.0, 1.0, 2.0, -1.0])
    constant_head(model, logits)
    levels = model.values(model.sample(200, generator=torch.Generator().manual_seed(0))).flatten().long()
    freq = torch.bincount(levels, minlength=4).float() / levels.numel()
    assert (freq - torch.softmax(logits, 0)).abs().max() < 0.025
