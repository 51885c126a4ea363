"""Output distributions: numpy references, normalisation, and inverse-CDF sampling frequencies."""

import itertools

import numpy as np
import pytest
import torch

from genvision.autoregressive.distributions import (
    Bernoulli,
    Categorical,
    DiscretizedLogisticMixture,
    inverse_cdf,
)


def test_inverse_cdf_golden():
    probs = torch.tensor([[0.2, 0.5, 0.3]]).expand(6, 3)
    u = torch.tensor([0.0, 0.19, 0.21, 0.69, 0.71, 0.999])
    assert inverse_cdf(probs, u).tolist() == [0, 0, 1, 1, 2, 2]
    # unnormalised weights are normalised by their total
    assert inverse_cdf(2 * probs, u).tolist() == [0, 0, 1, 1, 2, 2]


def test_bernoulli_log_prob_matches_numpy():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    v = torch.randint(0, 2, (2, 3, 4, 5)).double()
    p = 1 / (1 + np.exp(-logits.numpy()))
    expected = (v.numpy() * np.log(p) + (1 - v.numpy()) * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(Bernoulli(3).log_prob(logits, v).numpy(), expected, rtol=1e-12)


def test_categorical_log_prob_matches_numpy():
    torch.manual_seed(0)
    levels, channels = 5, 2
    logits = torch.randn(2, channels * levels, 3, 3, dtype=torch.float64)
    v = torch.randint(0, levels, (2, channels, 3, 3)).double()
    lg = logits.numpy().reshape(2, channels, levels, 3, 3)
    log_sm = lg - np.log(np.exp(lg).sum(2, keepdims=True))
    idx = v.numpy().astype(int)
    expected = np.take_along_axis(log_sm, idx[:, :, None], 2)[:, :, 0].sum(1)
    np.testing.assert_allclose(
        Categorical(channels, levels).log_prob(logits, v).numpy(), expected, rtol=1e-12
    )
    # encode / decode round trip on the level grid
    dist = Categorical(1, 256)
    x = torch.arange(256.0).view(1, 1, 16, 16) / 255 * 2 - 1
    assert torch.equal(dist.encode(x), torch.arange(256.0).view(1, 1, 16, 16))


def logistic_cdf(z):
    return 1 / (1 + np.exp(-z))


def test_logistic_single_component_matches_hand_computation():
    levels, mu, log_s = 8, 0.1, -1.2
    dist = DiscretizedLogisticMixture(1, 1, levels)
    grid = torch.linspace(-1, 1, levels, dtype=torch.float64).view(levels, 1, 1, 1)
    params = torch.tensor([0.0, mu, log_s], dtype=torch.float64).view(1, 3, 1, 1).expand(levels, 3, 1, 1)
    got = dist.log_prob(params, grid).flatten().exp().numpy()
    s, half, x = np.exp(log_s), 1 / (levels - 1), grid.flatten().numpy()
    expected = logistic_cdf((x + half - mu) / s) - logistic_cdf((x - half - mu) / s)
    expected[0] = logistic_cdf((x[0] + half - mu) / s)  # edge bins take the tails
    expected[-1] = 1 - logistic_cdf((x[-1] - half - mu) / s)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("channels,levels", [(1, 16), (3, 6)])
def test_logistic_mixture_sums_to_one(channels, levels):
    torch.manual_seed(0)
    dist = DiscretizedLogisticMixture(channels, 3, levels)
    grid = torch.linspace(-1, 1, levels, dtype=torch.float64)
    pixels = torch.tensor(list(itertools.product(grid.tolist(), repeat=channels)), dtype=torch.float64)
    params = torch.randn(1, dist.param_channels, 1, 1, dtype=torch.float64).expand(len(pixels), -1, 1, 1)
    total = dist.log_prob(params, pixels.view(-1, channels, 1, 1)).exp().sum()
    assert total.item() == pytest.approx(1.0, abs=1e-4)


def empirical_vs_model(dist, params, pixels, n=40000, seed=0):
    """Frequencies of `n` draws via sample_step against exp(log_prob) over the listed pixels."""
    g = torch.Generator().manual_seed(seed)
    p = params.expand(n, -1)
    pixel = torch.zeros(n, pixels.shape[1], dtype=params.dtype)
    for step in range(dist.steps):
        u = torch.rand((n, dist.uniforms), generator=g, dtype=params.dtype)
        pixel = dist.sample_step(p, pixel, step, u, temperature=1.0)
    counts = (pixel[:, None, :] == pixels[None]).all(-1).double().mean(0)
    model = dist.log_prob(params.view(1, -1, 1, 1).expand(len(pixels), -1, 1, 1), pixels[:, :, None, None])
    return counts, model.flatten().exp()


def test_categorical_sampling_frequencies():
    torch.manual_seed(1)
    dist = Categorical(2, 3)
    params = torch.randn(1, 6, dtype=torch.float64)
    pixels = torch.tensor(list(itertools.product(range(3), repeat=2)), dtype=torch.float64)
    counts, model = empirical_vs_model(dist, params, pixels)
    assert counts.sum() == 1
    assert (counts - model).abs().max() < 0.015


def test_logistic_mixture_sampling_frequencies():
    torch.manual_seed(2)
    dist = DiscretizedLogisticMixture(2, 2, 5)
    params = torch.randn(1, dist.param_channels, dtype=torch.float64)
    grid = torch.linspace(-1, 1, 5, dtype=torch.float64).tolist()
    pixels = torch.tensor(list(itertools.product(grid, repeat=2)), dtype=torch.float64)
    counts, model = empirical_vs_model(dist, params, pixels)
    assert counts.sum().item() == pytest.approx(1.0)  # every draw lands on the grid
    assert (counts - model).abs().max() < 0.015
