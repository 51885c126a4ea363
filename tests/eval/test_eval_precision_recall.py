import numpy as np
import pytest
import torch

from genvision.errors import GenvisionError
from genvision.eval import knn_radii, precision_recall


def test_hand_case_1d():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0]])
    fake = torch.tensor([[0.5], [10.0]])
    # Real 1-NN radii are all 1: 0.5 is inside, 10 is not -> precision 1/2.
    # Fake 1-NN radii are both 9.5: every real point is within 9.5 of 0.5 -> recall 1.
    assert precision_recall(real, fake, k=1) == (0.5, 1.0)


def test_knn_radii_match_brute_force_and_chunking():
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    d = np.linalg.norm(x.numpy()[:, None] - x.numpy()[None], axis=-1)
    expected = np.sort(d, axis=1)[:, 3]  # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(x, k=3).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(knn_radii(x, k=3, chunk_size=7).numpy(), expected, rtol=1e-6)


def test_same_distribution_high_disjoint_zero():
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(500, 4, generator=g), torch.randn(500, 4, generator=g)
    same = precision_recall(real, fake, chunk_size=128)
    assert same.precision > 0.85 and same.recall > 0.85
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, fake + 100.0) == (0.0, 0.0)


def test_mode_collapse_keeps_precision_loses_recall():
    g = torch.Generator().manual_seed(2)
    real = torch.randn(400, 2, generator=g)
    fake = 0.05 * torch.randn(400, 2, generator=g)  # all samples near the mode
    result = precision_recall(real, fake)
    assert result.precision > 0.95
    assert result.recall < 0.3


def test_errors():
    with pytest.raises(GenvisionError):
        precision_recall(torch.randn(3, 2), torch.randn(10, 2), k=3)
    with pytest.raises(GenvisionError):
        precision_recall(torch.randn(10, 2), torch.randn(10, 3))
