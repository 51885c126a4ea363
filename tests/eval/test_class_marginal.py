"""class_marginal_nll: the batched, pruned -log p(x) = -log (1/K) sum_k p(x | k) equals the plain sum."""

import math

import pytest
import torch

from genvision.eval.likelihood import class_marginal_nll


def table_nll(table: torch.Tensor):
    """nll_fn over images that are their own index: x (B, 1) float -> table[x, labels]."""
    return lambda x, labels: table[x[:, 0].long(), labels]


def test_matches_the_plain_sum_and_prunes_with_a_lower_bound():
    g = torch.Generator().manual_seed(0)
    n, k = 50, 10
    table = torch.rand(n, k, generator=g, dtype=torch.float64) * 120 + 20  # NLLs 20..140 nats
    labels = torch.randint(0, k, (n,), generator=g)
    x = torch.arange(n, dtype=torch.float64)[:, None]
    plain = -(torch.logsumexp(-table, dim=1) - math.log(k))

    no_bound = class_marginal_nll(table_nll(table), x, labels, k, batch=7)
    torch.testing.assert_close(no_bound.marginal, plain, rtol=0, atol=1e-12)
    torch.testing.assert_close(no_bound.conditional, table[torch.arange(n), labels])
    assert no_bound.full_passes == n * k

    half = table * 0.5  # a valid lower bound (NLL terms are >= 0)
    pruned = class_marginal_nll(table_nll(table), x, labels, k, lower_bound_fn=table_nll(half), batch=7)
    torch.testing.assert_close(pruned.marginal, plain, rtol=0, atol=1e-9)
    assert n <= pruned.full_passes < n * k


def test_hand_computed_two_classes():
    table = torch.tensor([[1.0, 2.0]], dtype=torch.float64)  # -log p(x | 0) = 1, -log p(x | 1) = 2
    out = class_marginal_nll(table_nll(table), torch.zeros(1, 1), torch.tensor([1]), 2)
    expected = -math.log(0.5 * (math.exp(-1.0) + math.exp(-2.0)))
    assert out.marginal.item() == pytest.approx(expected, rel=1e-12)
    assert out.conditional.item() == 2.0

