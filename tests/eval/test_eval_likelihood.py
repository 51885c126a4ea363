import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

from genvision.errors import GenvisionError
from genvision.eval import (
    approx_standard_normal_cdf,
    bernoulli_nll,
    bits_per_dim,
    categorical_nll,
    discretized_gaussian_log_likelihood,
    discretized_logistic_log_likelihood,
    importance_weighted_nll,
    likelihood_report,
    nats_from_bits_per_dim,
)

LEVELS = torch.linspace(-1, 1, 256, dtype=torch.float64)
CASES = [(0.3, -2.0), (0.0, -4.0), (-1.0, -3.0), (0.9, 0.5), (0.02, -7.0)]


def _bin_edges(num_levels: int = 256) -> np.ndarray:
    grid = np.linspace(-1, 1, num_levels)
    half = 1.0 / (num_levels - 1)
    return np.concatenate([[-np.inf], grid[:-1] + half, [np.inf]])


def test_bits_per_dim_hand_case():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    t = bits_per_dim(torch.tensor([784 * math.log(2), 2 * 784 * math.log(2)]), 784)
    torch.testing.assert_close(t, torch.tensor([1.0, 2.0]))
    assert nats_from_bits_per_dim(3.5, 3072) == pytest.approx(3.5 * 3072 * math.log(2))
    assert bits_per_dim(nats_from_bits_per_dim(2.7, 100), 100) == pytest.approx(2.7)


def test_approx_normal_cdf_close_to_scipy():
    x = torch.linspace(-8, 8, 2001, dtype=torch.float64)
    err = (approx_standard_normal_cdf(x) - torch.from_numpy(stats.norm.cdf(x.numpy()))).abs().max()
    assert err < 3e-4


@pytest.mark.parametrize("mean,log_scale", CASES)
def test_gaussian_bins_sum_to_one_and_match_scipy(mean, log_scale):
    logp = discretized_gaussian_log_likelihood(
        LEVELS,
        means=torch.tensor(mean, dtype=torch.float64),
        log_scales=torch.tensor(log_scale, dtype=torch.float64),
    )
    p = logp.exp().numpy()
    assert p.sum() == pytest.approx(1.0, abs=1e-8)
    reference = np.diff(stats.norm.cdf((_bin_edges() - mean) / math.exp(log_scale)))
    # Differences of the tanh-approximated CDF: each CDF is within ~2e-4 of the exact one.
    np.testing.assert_allclose(p, reference, atol=5e-4)


def test_gaussian_matches_guided_diffusion_convention():
    g = torch.Generator().manual_seed(0)
    x = LEVELS[torch.randint(0, 256, (4, 3, 5, 5), generator=g)]
    x[0, 0, 0, :2] = torch.tensor([-1.0, 1.0], dtype=torch.float64)  # both edge bins present
    means = torch.randn(x.shape, generator=g, dtype=torch.float64).clamp(-1, 1)
    log_scales = torch.rand(x.shape, generator=g, dtype=torch.float64) * -4
    # guided-diffusion's discretized_gaussian_log_likelihood, written out with its 256-level constants.
    inv = torch.exp(-log_scales)
    cdf_plus = approx_standard_normal_cdf(inv * (x - means + 1 / 255))
    cdf_min = approx_standard_normal_cdf(inv * (x - means - 1 / 255))
    expected = torch.where(
        x < -0.999,
        cdf_plus.clamp(min=1e-12).log(),
        torch.where(
            x > 0.999, (1 - cdf_min).clamp(min=1e-12).log(), (cdf_plus - cdf_min).clamp(min=1e-12).log()
        ),
    )
    ours = discretized_gaussian_log_likelihood(x, means=means, log_scales=log_scales)
    assert ours.shape == x.shape
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)


def test_gaussian_other_level_counts_sum_to_one():
    for num_levels in (2, 16):
        grid = torch.linspace(-1, 1, num_levels, dtype=torch.float64)
        logp = discretized_gaussian_log_likelihood(
            grid,
            means=torch.tensor(0.1, dtype=torch.float64),
            log_scales=torch.tensor(-1.0),
            num_levels=num_levels,
        )
        assert logp.exp().sum().item() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("mean,log_scale", CASES)
def test_logistic_bins_sum_to_one_and_match_scipy(mean, log_scale):
    logp = discretized_logistic_log_likelihood(
        LEVELS,
        means=torch.tensor(mean, dtype=torch.float64),
        log_scales=torch.tensor(log_scale, dtype=torch.float64),
    )
    assert logp.exp().sum().item() == pytest.approx(1.0, abs=1e-12)
    z = (_bin_edges() - mean) / math.exp(log_scale)
    reference = np.diff(stats.logistic.cdf(z))
    big = reference > 1e-6
    np.testing.assert_allclose(logp.exp().numpy()[big], reference[big], rtol=1e-8)


def test_logistic_far_tail_is_exact_not_clamped():
    x = torch.tensor([0.0], dtype=torch.float64)
    logp = discretized_logistic_log_likelihood(
        x,
        means=torch.tensor([0.9], dtype=torch.float64),
        log_scales=torch.tensor([-5.0], dtype=torch.float64),
    )
    # The bin [-1/255, 1/255] lies ~120 scales below the mean: log(sigma(a) - sigma(b)) with a, b << 0
    # is b + log(e^{a-b} - 1) up to e^{a} terms.
    s = math.exp(-5.0)
    a, b = (1 / 255 - 0.9) / s, (-1 / 255 - 0.9) / s
    assert logp.item() == pytest.approx(b + math.log(math.expm1(a - b)), rel=1e-12)
    assert logp.item() < -100


def test_bernoulli_nll_matches_numpy():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64)
    x = (torch.rand(3, 1, 4, 4, generator=g) > 0.5).double()
    p = 1 / (1 + np.exp(-logits.numpy()))
    expected = -(x.numpy() * np.log(p) + (1 - x.numpy()) * np.log(1 - p)).reshape(3, -1).sum(1)
    np.testing.assert_allclose(bernoulli_nll(logits, x).numpy(), expected, rtol=1e-10)
    with pytest.raises(GenvisionError):
        bernoulli_nll(logits, x[:2])


def test_categorical_nll_matches_gather_and_uniform_is_8_bits():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 5, 3, 4, generator=g, dtype=torch.float64)
    target = torch.randint(0, 5, (2, 3, 4), generator=g)
    logp = torch.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    torch.testing.assert_close(categorical_nll(logits, target), -logp.flatten(1).sum(1))
    # A uniform 256-way model of a (1, 28, 28) image costs exactly 8 bits per dimension.
    uniform = categorical_nll(torch.zeros(2, 256, 1, 28, 28), torch.zeros(2, 1, 28, 28, dtype=torch.long))
    assert likelihood_report(uniform, (1, 28, 28)).bits_per_dim == pytest.approx(8.0, rel=1e-6)
    with pytest.raises(GenvisionError):
        categorical_nll(logits, target[:, :2])


def test_importance_weighted_nll():
    w = torch.tensor([0.2, 0.05], dtype=torch.float64)
    identical = torch.log(w).expand(7, 2)
    torch.testing.assert_close(importance_weighted_nll(identical), -torch.log(w))
    lw = torch.randn(5, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = -(logsumexp(lw.numpy(), axis=0) - math.log(5))
    np.testing.assert_allclose(importance_weighted_nll(lw).numpy(), expected, rtol=1e-12)
    # The IWAE bound tightens with K: never worse than the mean log-weight (ELBO).
    assert (importance_weighted_nll(lw) <= -lw.mean(0)).all()
    with pytest.raises(GenvisionError):
        importance_weighted_nll(torch.zeros(5))


def test_likelihood_report():
    nll = torch.tensor([784 * math.log(2), 3 * 784 * math.log(2)])
    report = likelihood_report(nll, (1, 28, 28))
    assert report.num_dims == 784
    assert report.nats_per_image == pytest.approx(2 * 784 * math.log(2), rel=1e-6)
    assert report.bits_per_dim == pytest.approx(2.0, rel=1e-6)
    with pytest.raises(GenvisionError):
        likelihood_report(torch.zeros(2, 3), (1, 28, 28))
