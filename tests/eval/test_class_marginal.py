"""class_marginal_nll: the batched -log p(x) = -log (1/K) sum_k p(x | k) equals the plain sum; on a subset,
the control-variate estimate of its mean is unbiased and its standard error is honest."""

import math

import pytest
import torch

from genvision.eval.likelihood import class_marginal_nll


def table_nll(table: torch.Tensor, calls: list | None = None):
    """nll_fn over images that are their own index: x (B, 1) float -> table[x, labels]."""
    def fn(x, labels):
        if calls is not None:
            calls.append(len(x))
        return table[x[:, 0].long(), labels]
    return fn


def plain_marginal(table: torch.Tensor) -> torch.Tensor:
    return -(torch.logsumexp(-table, dim=1) - math.log(table.shape[1]))


def test_matches_the_plain_sum_in_batches():
    g = torch.Generator().manual_seed(0)
    n, k = 50, 10
    table = torch.rand(n, k, generator=g, dtype=torch.float64) * 120 + 20  # NLLs 20..140 nats
    labels = torch.randint(0, k, (n,), generator=g)
    x = torch.arange(n, dtype=torch.float64)[:, None]
    calls = []
    out = class_marginal_nll(table_nll(table, calls), x, labels, k, batch=7)
    torch.testing.assert_close(out.marginal, plain_marginal(table), rtol=0, atol=1e-12)
    torch.testing.assert_close(out.conditional, table[torch.arange(n), labels])
    assert out.marginal_mean == pytest.approx(float(plain_marginal(table).mean()), abs=1e-9)
    assert out.marginal_se == 0.0 and out.passes == n * k == sum(calls) and max(calls) == 7


def test_hand_computed_two_classes():
    table = torch.tensor([[1.0, 2.0]], dtype=torch.float64)  # -log p(x | 0) = 1, -log p(x | 1) = 2
    out = class_marginal_nll(table_nll(table), torch.zeros(1, 1), torch.tensor([1]), 2)
    expected = -math.log(0.5 * (math.exp(-1.0) + math.exp(-2.0)))
    assert out.marginal.item() == pytest.approx(expected, rel=1e-12)
    assert out.conditional.item() == 2.0


def test_subset_estimate_is_unbiased_with_an_honest_standard_error():
    """A classifier-like table: the true class is best by a random gap, so log K + log p(y | x) varies. The
    subset estimate of the mean over all n images lands within ~2 standard errors over many seeds (z-scores
    with mean ~0 and spread ~1), and it costs n + m (K - 1) passes."""
    g = torch.Generator().manual_seed(1)
    n, k, m = 2000, 10, 200
    labels = torch.randint(0, k, (n,), generator=g)
    table = 80 + 20 * torch.rand(n, 1, generator=g, dtype=torch.float64) + torch.zeros(n, k, dtype=torch.float64)
    table += torch.rand(n, k, generator=g, dtype=torch.float64) * 8  # other classes 0..8 nats worse or so
    table[torch.arange(n), labels] -= 4 * torch.rand(n, generator=g, dtype=torch.float64)
    x = torch.arange(n, dtype=torch.float64)[:, None]
    truth = float(plain_marginal(table).mean())
    z = []
    for seed in range(40):
        out = class_marginal_nll(table_nll(table), x, labels, k, marginal_images=m, seed=seed, batch=64)
        assert len(out.subset) == m == len(out.subset.unique()) and out.passes == n + m * (k - 1)
        torch.testing.assert_close(out.marginal, plain_marginal(table)[out.subset], rtol=0, atol=1e-12)
        z.append((out.marginal_mean - truth) / out.marginal_se)
    z = torch.tensor(z)
    assert abs(float(z.mean())) < 0.6 and 0.6 < float(z.std()) < 1.5
