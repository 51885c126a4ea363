import math

import numpy as np
import pytest
import torch

from genvision.dvae.gumbel import (
    cosine_warmup,
    gumbel_softmax,
    kl_categorical,
    kl_categorical_uniform,
    sample_gumbel,
    tau_cosine,
    tau_exponential,
    temperature,
)
from genvision.errors import GenvisionError

EULER_GAMMA = 0.5772156649015329


def test_gumbel_noise_moments():
    g = sample_gumbel((200_000,), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    # Gumbel(0, 1): mean = Euler-Mascheroni constant, variance = pi^2 / 6.
    assert g.mean().item() == pytest.approx(EULER_GAMMA, abs=0.01)
    assert g.var().item() == pytest.approx(math.pi**2 / 6, rel=0.02)
    assert torch.isfinite(g).all()


def test_samples_approach_one_hot_as_tau_goes_to_zero():
    logits = torch.tensor([[1.0, 0.5, -0.3, 0.0, 2.0]]).expand(2000, 5)
    max_prob = []
    for tau in (5.0, 1.0, 0.1, 0.01, 0.001):
        y = gumbel_softmax(logits, tau=tau, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(y.sum(-1), torch.ones(2000))
        max_prob.append(y.max(-1).values.mean().item())
    assert max_prob == sorted(max_prob)  # sharper as tau falls
    assert max_prob[0] < 0.5 and max_prob[-1] > 0.999


def test_argmax_frequencies_match_softmax():
    """Gumbel-max: P(argmax y = k) = softmax(logits)_k at any tau (Pearson chi-square, df = 4)."""
    logits = torch.tensor([0.3, -1.0, 1.2, 0.0, 0.7])
    n = 50_000
    y = gumbel_softmax(logits.expand(n, 5), tau=0.7, generator=torch.Generator().manual_seed(2))
    counts = torch.bincount(y.argmax(-1), minlength=5).double().numpy()
    expected = n * torch.softmax(logits.double(), 0).numpy()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 18.47  # the 0.999 quantile of chi^2 with 4 degrees of freedom


def test_straight_through_forward_one_hot_backward_soft():
    torch.manual_seed(0)
    logits = torch.randn(6, 7, requires_grad=True)
    weights = torch.randn(6, 7)
    hard = gumbel_softmax(logits, tau=0.5, hard=True, generator=torch.Generator().manual_seed(3))
    # Forward: exactly one-hot, at the argmax of the soft sample drawn with the same noise.
    soft_ref = gumbel_softmax(logits, tau=0.5, generator=torch.Generator().manual_seed(3))
    assert set(hard.detach().unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(hard.detach().sum(-1), torch.ones(6))
    assert torch.equal(hard.detach().argmax(-1), soft_ref.detach().argmax(-1))
    (grad_hard,) = torch.autograd.grad((weights * hard).sum(), logits)
    (grad_soft,) = torch.autograd.grad((weights * soft_ref).sum(), logits)
    torch.testing.assert_close(grad_hard, grad_soft, rtol=0, atol=0)
    assert grad_hard.abs().sum() > 0


def test_gumbel_softmax_along_channel_dim_and_bad_tau():
    logits = torch.randn(2, 5, 3, 3)
    y = gumbel_softmax(logits, tau=1.0, dim=1, hard=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y.sum(1), torch.ones(2, 3, 3))
    with pytest.raises(GenvisionError, match="tau must be > 0"):
        gumbel_softmax(logits, tau=0.0)


def test_kl_to_uniform_against_formula():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 6))
    q = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    ref = (q * np.log(q)).sum(1) + np.log(6)  # sum q log q + log K
    ours = kl_categorical_uniform(torch.from_numpy(logits))
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(kl_categorical_uniform(torch.zeros(3, 6)), torch.zeros(3), rtol=0, atol=1e-6)
    one_hot = torch.tensor([[0.0, -math.inf, -math.inf, -math.inf]], dtype=torch.float64)
    assert kl_categorical_uniform(one_hot).item() == pytest.approx(math.log(4), abs=1e-12)
    # Channel layout (B, K, h, w): the KL per cell.
    grid = torch.from_numpy(logits).T.reshape(1, 6, 2, 2)
    np.testing.assert_allclose(kl_categorical_uniform(grid, dim=1).reshape(-1).numpy(), ref, rtol=1e-12)


def test_kl_categorical_against_numpy():
    rng = np.random.default_rng(1)
    lq, lp = rng.normal(size=(5, 4)), rng.normal(size=4)
    q = np.exp(lq) / np.exp(lq).sum(1, keepdims=True)
    p = np.exp(lp) / np.exp(lp).sum()
    ref = (q * (np.log(q) - np.log(p))).sum(1)
    ours = kl_categorical(torch.from_numpy(lq), torch.from_numpy(lp))
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-12)
    # Uniform p reduces to the KL to uniform.
    torch.testing.assert_close(kl_categorical(torch.from_numpy(lq), torch.zeros(4, dtype=torch.float64)),
                               kl_categorical_uniform(torch.from_numpy(lq)))


def test_schedule_endpoints():
    assert tau_exponential(0, tau0=1.0, rate=1e-3, tau_min=0.5) == 1.0
    assert tau_exponential(100, tau0=1.0, rate=1e-3, tau_min=0.5) == pytest.approx(math.exp(-0.1))
    assert tau_exponential(10**6, tau0=1.0, rate=1e-3, tau_min=0.5) == 0.5
    assert tau_cosine(0, total=100) == 1.0
    assert tau_cosine(50, total=100) == pytest.approx((1 + 1 / 16) / 2)
    assert tau_cosine(100, total=100) == pytest.approx(1 / 16)
    assert tau_cosine(1000, total=100) == pytest.approx(1 / 16)
    taus = [tau_cosine(s, total=100) for s in range(0, 101, 10)]
    assert taus == sorted(taus, reverse=True)
    assert cosine_warmup(0, total=10, final=6.6) == 0.0
    assert cosine_warmup(10, total=10, final=6.6) == pytest.approx(6.6)
    assert cosine_warmup(5, total=0, final=2.0) == 2.0
    assert temperature("cosine", 100, tau0=1.0, tau_min=0.25, rate=0.0, total=100) == pytest.approx(0.25)
    with pytest.raises(GenvisionError, match="unknown temperature schedule"):
        temperature("linear", 0, tau0=1.0, tau_min=0.5, rate=0.0, total=1)
