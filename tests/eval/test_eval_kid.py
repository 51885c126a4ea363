import numpy as np
import pytest
import torch

from genvision.errors import GenvisionError
from genvision.eval import kernel_inception_distance, mmd2_unbiased


def _numpy_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    m = x.shape[0]

    def k(a, b):
        return (a @ b / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_mmd2_matches_loop_reference():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) + 0.3
    ours = mmd2_unbiased(torch.from_numpy(x), torch.from_numpy(y)).item()
    assert ours == pytest.approx(_numpy_mmd2(x, y), rel=1e-10)


def test_same_distribution_near_zero_shifted_positive():
    g = torch.Generator().manual_seed(1)
    fa, fb = torch.randn(400, 8, generator=g), torch.randn(400, 8, generator=g)
    same = kernel_inception_distance(fa, fb, subset_size=200, subsets=10, generator=g)
    shifted = kernel_inception_distance(fa, fb + 0.5, subset_size=200, subsets=10, generator=g)
    assert abs(same.mean) < 0.05
    assert shifted.mean > 0.5
    assert shifted.mean > 10 * shifted.std / np.sqrt(10)


def test_identical_sets_near_zero():
    fa = torch.randn(1000, 8, generator=torch.Generator().manual_seed(2))
    result = kernel_inception_distance(fa, fa, subset_size=1000, subsets=1)
    # Shared points put k(x, x) into the cross term: about -2/(m-1) * (mean k(x,x) - mean k(x,y)) = -0.014.
    assert -0.03 < result.mean <= 0.0


def test_subset_size_clipped_and_whole_set_has_no_spread():
    g = torch.Generator().manual_seed(3)
    fa, fb = torch.randn(30, 4, generator=g), torch.randn(30, 4, generator=g) + 1.0
    result = kernel_inception_distance(fa, fb, subset_size=1000, subsets=4, generator=g)
    # min(1000, 30, 30) = 30: every subset is the whole set, so every round gives the same number.
    assert result.std < 1e-10
    assert result.mean == pytest.approx(mmd2_unbiased(fa.double(), fb.double()).item(), rel=1e-10)


def test_generator_makes_it_reproducible():
    g = torch.Generator().manual_seed(4)
    fa, fb = torch.randn(100, 4, generator=g), torch.randn(80, 4, generator=g)
    r1 = kernel_inception_distance(fa, fb, subset_size=50, generator=torch.Generator().manual_seed(7))
    r2 = kernel_inception_distance(fa, fb, subset_size=50, generator=torch.Generator().manual_seed(7))
    assert r1 == r2


def test_errors():
    with pytest.raises(GenvisionError):
        kernel_inception_distance(torch.randn(10, 3), torch.randn(10, 4))
    with pytest.raises(GenvisionError):
        kernel_inception_distance(torch.randn(1, 3), torch.randn(10, 3))
