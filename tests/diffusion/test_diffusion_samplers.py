"""Samplers: DDIM(η=1) = DDPM(β̃), determinism of DDIM(η=0), seeding, and recovery of Gaussian data."""

import math

import numpy as np
import pytest
import torch
from diffusion_toy import optimal_eps_fn, reverse_variance

from genvision.diffusion.samplers import (
    ddim_sample,
    ddim_step,
    ddpm_sample,
    ddpm_step,
    ddpm_transition,
)
from genvision.diffusion.schedule import NoiseSchedule
from genvision.diffusion.timesteps import spaced_timesteps
from genvision.errors import GenvisionError

M, S = 0.3, 0.2  # the toy data: x_0 ~ N(M, S^2) per dimension


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_leading_timesteps():
    assert spaced_timesteps(10, 5, "leading") == [8, 6, 4, 2, 0]
    assert spaced_timesteps(10, 10, "leading") == list(range(9, -1, -1))
    assert spaced_timesteps(10, 3, "leading") == [6, 3, 0]
    assert spaced_timesteps(1000, 50, "leading")[:2] == [980, 960] and len(spaced_timesteps(1000, 50, "leading")) == 50
    for bad in (0, 11):
        with pytest.raises(GenvisionError, match="steps"):
            spaced_timesteps(10, bad, "leading")


@pytest.mark.parametrize("clip_x0", [True, False])
def test_ddim_eta1_over_all_steps_is_ddpm_with_beta_tilde_pathwise(clip_x0):
    """With σ_t(1)^2 = β̃_t (Eq. 16) the DDIM update is algebraically the DDPM posterior mean (Eq. 7),
    and both draw x_T then one z per step from the generator, so equal seeds give equal paths."""
    s = NoiseSchedule.cosine(20)
    eps_fn = optimal_eps_fn(s, 1.2, 0.5)  # data partly outside [-1, 1] so clipping matters
    a = ddpm_sample(eps_fn, s, (64, 1, 2, 2), variance="beta_tilde", clip_x0=clip_x0, generator=_gen(3))
    b = ddim_sample(eps_fn, s, (64, 1, 2, 2), steps=20, eta=1.0, clip_x0=clip_x0, generator=_gen(3))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    c = ddim_sample(eps_fn, s, (64, 1, 2, 2), steps=20, eta=0.0, clip_x0=clip_x0, generator=_gen(3))
    assert (a - c).abs().max().item() > 0.1  # the test can tell samplers apart


def test_ddim_eta1_matches_ddpm_in_distribution():
    s = NoiseSchedule.cosine(20)
    eps_fn = optimal_eps_fn(s, M, S)
    shape = (20_000, 1, 1, 1)
    a = ddpm_sample(eps_fn, s, shape, clip_x0=False, generator=_gen(0))
    b = ddim_sample(eps_fn, s, shape, steps=20, eta=1.0, clip_x0=False, generator=_gen(1))
    assert a.mean().item() == pytest.approx(b.mean().item(), abs=0.01)
    assert a.std().item() == pytest.approx(b.std().item(), rel=0.03)


def test_ddpm_with_the_optimal_mean_and_variance_samples_the_data_exactly():
    """For Gaussian data every reverse conditional q(x_{t-1} | x_t) is Gaussian; with its mean (the
    optimal ε) and variance, ancestral sampling is exact, except that the last step adds no noise:
    the output is E[x_0 | x_1], of variance S^2 - Var(x_0 | x_1)."""
    s = NoiseSchedule.cosine(50)
    var = reverse_variance(s, S)
    log_var = torch.tensor(np.log(var), dtype=torch.float32)

    def log_variance_fn(x, t):
        return log_var[t].reshape(-1, 1, 1, 1).expand_as(x)

    shape = (20_000, 1, 1, 1)
    eps_fn = optimal_eps_fn(s, M, S)
    x = ddpm_sample(eps_fn, s, shape, clip_x0=False, log_variance_fn=log_variance_fn, generator=_gen(0))
    assert x.mean().item() == pytest.approx(M, abs=0.005)
    assert x.std().item() == pytest.approx(math.sqrt(S**2 - var[0]), rel=0.015)
    # The fixed choices bound it (Ho et al. Sec. 3.2): β̃_t under-disperses, β_t over-disperses.
    lo = ddpm_sample(eps_fn, s, shape, variance="beta_tilde", generator=_gen(0))
    hi = ddpm_sample(eps_fn, s, shape, variance="beta", generator=_gen(0))
    assert lo.std().item() < x.std().item() - 0.01 < hi.std().item() - 0.02
    assert lo.mean().item() == pytest.approx(M, abs=0.01) and hi.mean().item() == pytest.approx(M, abs=0.01)


def test_ddim_eta0_is_deterministic_and_matches_its_closed_form_on_gaussian_data():
    """For x_0 ~ N(M, S^2) the optimal x̂_0 and ε̂ are affine in x_t, so a DDIM(η=0) step is the affine
    map x_prev - a_p M = k (x_t - a M), k = (a_p a S^2 + b_p b) / (a^2 S^2 + b^2) (a = sqrt(ᾱ_t),
    b = sqrt(1 - ᾱ_t), a_p, b_p the same at t_prev; a_p = 1, b_p = 0 after the last step)."""
    s = NoiseSchedule.cosine(50, dtype=torch.float64)
    eps_fn = optimal_eps_fn(s, M, S)
    ts = [49, 40, 23, 10, 3, 0]
    x_T = torch.randn(64, 1, 1, 2, generator=_gen(0), dtype=torch.float64)
    a = ddim_sample(eps_fn, s, x_T.shape, timesteps=ts, x_T=x_T, clip_x0=False, generator=_gen(1))
    b = ddim_sample(eps_fn, s, x_T.shape, timesteps=ts, x_T=x_T, clip_x0=False, generator=_gen(2))
    assert torch.equal(a, b)
    ac = np.cumprod(1 - s.betas.numpy())
    slope = 1.0
    for t, t_prev in zip(ts, [*ts[1:], None], strict=True):
        ap2 = 1.0 if t_prev is None else ac[t_prev]
        num = math.sqrt(ap2 * ac[t]) * S**2 + math.sqrt((1 - ap2) * (1 - ac[t]))
        slope *= num / (ac[t] * S**2 + 1 - ac[t])
    expected = M + slope * (x_T - math.sqrt(ac[49]) * M)
    torch.testing.assert_close(a, expected, rtol=1e-10, atol=1e-10)
    # Each step shrinks the spread (Cauchy-Schwarz on the slope): DDIM under-disperses at few steps.
    assert slope < math.sqrt(S**2 - reverse_variance(s, S)[0])


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_same_seed_same_samples(sampler):
    s = NoiseSchedule.cosine(10)
    eps_fn = optimal_eps_fn(s, M, S)
    run = {
        "ddpm": lambda g: ddpm_sample(eps_fn, s, (4, 1, 3, 3), generator=g),
        "ddim": lambda g: ddim_sample(eps_fn, s, (4, 1, 3, 3), steps=5, eta=0.5, generator=g),
    }[sampler]
    assert torch.equal(run(_gen(7)), run(_gen(7)))
    assert not torch.equal(run(_gen(7)), run(_gen(8)))


def test_callback_sees_every_step():
    s = NoiseSchedule.cosine(10)
    seen = []
    ddim_sample(
        optimal_eps_fn(s, M, S),
        s,
        (2, 1, 2, 2),
        timesteps=[9, 5, 2],
        generator=_gen(0),
        callback=lambda i, t, x, x0: seen.append((i, t, tuple(x.shape), float(x0.abs().max()))),
    )
    assert [(i, t) for i, t, _, _ in seen] == [(0, 9), (1, 5), (2, 2)]
    assert all(shape == (2, 1, 2, 2) and m <= 1.0 for _, _, shape, m in seen)
    seen.clear()
    eps_fn = optimal_eps_fn(s, M, S)
    ddpm_sample(eps_fn, s, (2, 1, 2, 2), generator=_gen(0), callback=lambda *a: seen.append(a[1]))
    assert seen == list(range(9, -1, -1))


def test_steps_are_the_paper_updates():
    s = NoiseSchedule.cosine(10)
    x = torch.randn(3, 1, 2, 2, generator=_gen(0))
    eps = torch.randn(3, 1, 2, 2, generator=_gen(1))
    t = 6
    tt = torch.full((3,), t)
    # Eq. 11, Ho et al. 2020: μ = (x_t - β_t / sqrt(1 - ᾱ_t) ε) / sqrt(α_t).
    mu = (x - s.betas[t] / s.sqrt_one_minus_alphas_cumprod[t] * eps) / s.alphas[t].sqrt()
    tr = ddpm_transition(s, x, t, eps, clip_x0=False)
    torch.testing.assert_close(tr.mean, mu)
    torch.testing.assert_close(tr.x0_pred, s.predict_x0_from_eps(x, tt, eps))
    last = ddpm_step(s, x, 0, eps, clip_x0=False).x_prev
    assert torch.equal(last, ddpm_transition(s, x, 0, eps, clip_x0=False).mean)
    # Eq. 12, Song et al. 2021 with η = 0 jumping from t=6 to t=2.
    x0 = s.predict_x0_from_eps(x, tt, eps)
    expected = s.alphas_cumprod[2].sqrt() * x0 + (1 - s.alphas_cumprod[2]).sqrt() * eps
    torch.testing.assert_close(ddim_step(s, x, t, 2, eps, clip_x0=False).x_prev, expected)
    # The last DDIM step returns the predicted x_0.
    torch.testing.assert_close(ddim_step(s, x, t, -1, eps, eta=1.0, clip_x0=False).x_prev, x0)


def test_learned_log_variance_fn_replaces_the_fixed_variance():
    s = NoiseSchedule.cosine(10)
    eps_fn = optimal_eps_fn(s, M, S)

    def beta_tilde(x, t):
        return s.posterior_log_variance_clipped[t].reshape(-1, 1, 1, 1).expand_as(x)

    a = ddpm_sample(eps_fn, s, (4, 1, 2, 2), generator=_gen(0))
    b = ddpm_sample(eps_fn, s, (4, 1, 2, 2), generator=_gen(0), log_variance_fn=beta_tilde)
    torch.testing.assert_close(a, b)


def test_sampler_errors():
    s = NoiseSchedule.cosine(10)
    eps_fn = optimal_eps_fn(s, M, S)
    with pytest.raises(GenvisionError, match="descending"):
        ddim_sample(eps_fn, s, (1, 1, 2, 2), timesteps=[2, 5])
    with pytest.raises(GenvisionError, match="descending"):
        ddim_sample(eps_fn, s, (1, 1, 2, 2), timesteps=[10, 5])
    with pytest.raises(GenvisionError, match="variance 'large'"):
        ddpm_sample(eps_fn, s, (1, 1, 2, 2), variance="large")
    with pytest.raises(GenvisionError, match="x_T has shape"):
        ddpm_sample(eps_fn, s, (1, 1, 2, 2), x_T=torch.zeros(2, 1, 2, 2))
