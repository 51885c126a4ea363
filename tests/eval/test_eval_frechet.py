import numpy as np
import pytest
import scipy.linalg
import torch

from genvision.errors import GenvisionError
from genvision.eval import FeatureStats, frechet_distance, frechet_distance_features, gaussian_stats


def _stats(mean, cov) -> FeatureStats:
    return FeatureStats(torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(cov, dtype=torch.float64))


def _numpy_fid(mu1, s1, mu2, s2) -> float:
    # The usual scipy route (pytorch-fid): sqrtm of the product, drop the imaginary residue.
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_gaussian_stats_matches_numpy():
    f = torch.randn(50, 6, generator=torch.Generator().manual_seed(0))
    stats = gaussian_stats(f)
    assert stats.mean.dtype == stats.cov.dtype == torch.float64
    np.testing.assert_allclose(stats.mean.numpy(), f.double().numpy().mean(0), atol=1e-12)
    np.testing.assert_allclose(stats.cov.numpy(), np.cov(f.double().numpy(), rowvar=False), atol=1e-12)


def test_same_set_is_zero():
    f = torch.randn(200, 8, generator=torch.Generator().manual_seed(1))
    assert frechet_distance_features(f, f) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_closed_form():
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()  # 7.25 + 4 + 1 = 12.25
    assert expected == pytest.approx(12.25)
    assert frechet_distance(_stats(mu_a, np.diag(a)), _stats(mu_b, np.diag(b))) == pytest.approx(
        expected, rel=1e-10
    )


def test_rotation_invariant_and_symmetric():
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a, b = np.array([1.0, 2.0, 3.0, 0.5]), np.array([0.1, 2.0, 5.0, 1.0])
    mu_a, mu_b = rng.normal(size=4), rng.normal(size=4)
    direct = frechet_distance(_stats(mu_a, np.diag(a)), _stats(mu_b, np.diag(b)))
    rotated = frechet_distance(_stats(q @ mu_a, q @ np.diag(a) @ q.T), _stats(q @ mu_b, q @ np.diag(b) @ q.T))
    swapped = frechet_distance(_stats(mu_b, np.diag(b)), _stats(mu_a, np.diag(a)))
    assert rotated == pytest.approx(direct, rel=1e-9)
    assert swapped == pytest.approx(direct, rel=1e-9)


def test_full_covariance_matches_scipy_sqrtm():
    rng = np.random.default_rng(3)
    la, lb = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = la @ la.T + 0.1 * np.eye(5), lb @ lb.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    ours = frechet_distance(_stats(mu1, s1), _stats(mu2, s2))
    assert ours == pytest.approx(_numpy_fid(mu1, s1, mu2, s2), rel=1e-8)


def test_large_samples_approach_closed_form():
    g = torch.Generator().manual_seed(4)
    std_a, std_b = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([1.5, 1.0, 0.5])
    shift = torch.tensor([1.0, 0.0, -1.0])
    fa = torch.randn(40000, 3, generator=g, dtype=torch.float64) * std_a
    fb = torch.randn(40000, 3, generator=g, dtype=torch.float64) * std_b + shift
    expected = 2.0 + ((std_a - std_b) ** 2).sum().item()  # 2 + 0.25 + 1 = 3.25
    assert frechet_distance_features(fa, fb) == pytest.approx(expected, abs=0.1)


def test_singular_covariances_are_finite_and_nonnegative():
    g = torch.Generator().manual_seed(5)
    fa, fb = torch.randn(5, 16, generator=g), torch.randn(5, 16, generator=g)  # D > N: rank-deficient
    d = frechet_distance_features(fa, fb)
    assert np.isfinite(d) and d >= 0
    assert frechet_distance_features(fa, fa) == pytest.approx(0.0, abs=1e-8)


def test_shape_errors():
    with pytest.raises(GenvisionError):
        gaussian_stats(torch.randn(1, 4))
    with pytest.raises(GenvisionError):
        frechet_distance_features(torch.randn(10, 3), torch.randn(10, 4))
