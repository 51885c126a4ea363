"""The variational bound against Gaussian algebra on a toy where the optimal denoiser is known."""

import math

import numpy as np
import pytest
import torch
from diffusion_toy import gaussian_data, optimal_eps_fn, reverse_variance
from scipy.stats import norm

from genvision.diffusion.likelihood import prior_bpd, variational_bound
from genvision.diffusion.schedule import NoiseSchedule

M, S = 0.1, 0.3
LN2 = math.log(2.0)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_prior_term_is_the_closed_form_kl_to_a_standard_normal():
    s = NoiseSchedule.cosine(10, dtype=torch.float64)
    x0 = gaussian_data(5, (2, 2, 2), M, S).double()
    abar = np.prod(1 - s.betas.numpy())
    # KL(N(a x, 1 - a^2) || N(0, 1)) = 0.5 (a^2 x^2 + (1 - a^2) - 1 - log(1 - a^2)), averaged over dims.
    kl = 0.5 * (abar * x0.numpy() ** 2 - abar - math.log(1 - abar))
    np.testing.assert_allclose(prior_bpd(s, x0).numpy(), kl.reshape(5, -1).mean(1) / LN2, rtol=1e-10)


@pytest.mark.parametrize("timesteps_per_call", [1, 4])
def test_kl_terms_of_the_optimal_denoiser_match_gaussian_algebra(timesteps_per_call):
    """E L_{t-1} = E KL(N(μ̃, β̃) || N(μ_θ, β̃)) = E (μ̃ - μ_θ)^2 / (2 β̃). With the optimal ε,
    μ_θ(x_t) = E[x_{t-1} | x_t] = E[μ̃ | x_t], so by the law of total variance
    E (μ̃ - μ_θ)^2 = Var(x_{t-1} | x_t) - β̃_t, computed here from the joint Gaussian of (x_{t-1}, x_t)."""
    T = 12
    s = NoiseSchedule.cosine(T, dtype=torch.float64)
    x0 = gaussian_data(2000, (1, 2, 2), M, S, seed=3).double()
    vlb = variational_bound(
        optimal_eps_fn(s, M, S), s, x0, generator=_gen(0), timesteps_per_call=timesteps_per_call
    )
    assert vlb.terms_bpd.shape == (2000, T)
    beta = s.betas.numpy()
    ac = np.cumprod(1 - beta)
    ac_prev = np.append(1.0, ac[:-1])
    # β̃ by Bayes' rule: the precisions 1 / (1 - ᾱ_{t-1}) and α_t / β_t of the two factors add.
    beta_tilde = 1 / (1 / (1 - ac_prev[1:]) + (1 - beta[1:]) / beta[1:])
    expected = (reverse_variance(s, S)[1:] - beta_tilde) / (2 * beta_tilde) / LN2
    measured = vlb.terms_bpd[:, 1:].mean(0).numpy()
    # Each term is a scaled chi^2_1 average over 8000 scalars: relative standard error ~1.6%.
    np.testing.assert_allclose(measured, expected, rtol=0.07)
    # The bound adds up and the prior term is the closed form of the previous test.
    torch.testing.assert_close(vlb.total_bpd, vlb.prior_bpd + vlb.terms_bpd.sum(1))
    torch.testing.assert_close(vlb.prior_bpd, prior_bpd(s, x0))
    assert torch.equal(vlb.decoder_bpd, vlb.terms_bpd[:, 0])


def test_a_worse_denoiser_has_a_larger_bound():
    T = 12
    s = NoiseSchedule.cosine(T)
    x0 = gaussian_data(500, (1, 2, 2), M, S, seed=3)
    good = variational_bound(optimal_eps_fn(s, M, S), s, x0, generator=_gen(0))
    bad = variational_bound(optimal_eps_fn(s, M + 0.3, S), s, x0, generator=_gen(0))
    assert bad.total_bpd.mean().item() > good.total_bpd.mean().item() + 0.05


def _log_bin_probability(lower, upper, mu, std):
    """log(Φ(upper) - Φ(lower)) with scipy's log-CDFs, on the side of the mean where it does not cancel."""
    lo, hi = (lower - mu) / std, (upper - mu) / std
    with np.errstate(divide="ignore"):  # the branch not taken may hit log(0)
        left = norm.logcdf(hi) + np.log1p(-np.exp(norm.logcdf(lo) - norm.logcdf(hi)))
        right = norm.logsf(lo) + np.log1p(-np.exp(norm.logsf(hi) - norm.logsf(lo)))
    return np.where(lo + hi > 0, right, left)


def test_decoder_term_matches_quadrature_over_x1():
    """L_0 = -log P(bin of x_0 | N(μ_θ(x_1), β̃_1)); for the optimal denoiser μ_θ(x_1) = E[x_0 | x_1]
    is affine in x_1 = a x_0 + b ε, so E_ε L_0 is a 1-D Gauss-Hermite integral per data value."""
    T = 12
    s = NoiseSchedule.cosine(T, dtype=torch.float64)
    levels = np.array([0, 100, 140, 255])
    values = levels * 2 / 255 - 1
    reps = 3000
    x0 = torch.tensor(np.repeat(values, reps), dtype=torch.float64).reshape(-1, 1, 1, 1)
    vlb = variational_bound(optimal_eps_fn(s, M, S), s, x0, generator=_gen(0))
    measured = vlb.decoder_bpd.reshape(len(values), reps).mean(1).numpy()

    a2, b2 = 1 - s.betas[0].item(), s.betas[0].item()
    std = math.sqrt(s.posterior_variance[1].item())  # β̃ of the next step: the clipped variance at t=0
    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    for value, got in zip(values, measured, strict=True):
        x1 = math.sqrt(a2) * value + math.sqrt(b2) * z
        mu = M + math.sqrt(a2) * S**2 / (a2 * S**2 + b2) * (x1 - math.sqrt(a2) * M)  # E[x_0 | x_1]
        upper = np.inf if value > 0.999 else value + 1 / 255
        lower = -np.inf if value < -0.999 else value - 1 / 255
        nll = -_log_bin_probability(lower, upper, mu, std)
        expected = (w * nll).sum() / LN2
        spread = np.sqrt((w * (nll / LN2 - expected) ** 2).sum() / reps)
        assert got == pytest.approx(expected, abs=4 * spread)


def test_seeded_bound_is_reproducible():
    s = NoiseSchedule.cosine(8)
    x0 = gaussian_data(4, (1, 2, 2), M, S)
    a = variational_bound(optimal_eps_fn(s, M, S), s, x0, generator=_gen(5))
    b = variational_bound(optimal_eps_fn(s, M, S), s, x0, generator=_gen(5))
    assert torch.equal(a.total_bpd, b.total_bpd)
