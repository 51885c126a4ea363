"""Timestep spacing (Lin et al. 2024, Table 2) and DDPM respacing (Nichol & Dhariwal 2021, Sec. 4)."""

import math

import numpy as np
import pytest
import torch
from diffusion_toy import optimal_eps_fn, reverse_variance

from genvision.diffusion.samplers import ddim_sample, ddpm_sample
from genvision.diffusion.schedule import NoiseSchedule
from genvision.diffusion.timesteps import SPACINGS, respace, respaced_betas, spaced_timesteps
from genvision.errors import GenvisionError

M, S = 0.3, 0.2  # the toy data: x_0 ~ N(M, S^2) per dimension


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_spacings_at_T1000_steps10_are_the_papers_table():
    """Lin et al. 2024, Table 2 (1-indexed there: leading 1, 101, ..., 901; linspace 1, 112, ..., 1000;
    trailing 100, 200, ..., 1000), here as code indices 0..999, descending."""
    assert spaced_timesteps(1000, 10, "leading") == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert spaced_timesteps(1000, 10, "linspace") == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]
    assert spaced_timesteps(1000, 10, "trailing") == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    # At 50 steps only trailing and linspace start at the last timestep, the one pure noise belongs to.
    assert [spaced_timesteps(1000, 50, sp)[0] for sp in SPACINGS] == [980, 999, 999]


def _diffusers_reference(T: int, steps: int, spacing: str) -> list[int]:
    """The three branches of diffusers' DDIMScheduler.set_timesteps (steps_offset = 0), verbatim in numpy
    (trailing cut to ``steps`` values: its float arange sometimes has one more, a timestep -1)."""
    if spacing == "linspace":
        return np.linspace(0, T - 1, steps).round()[::-1].astype(np.int64).tolist()
    if spacing == "leading":
        ratio = T // steps
        return (np.arange(0, steps) * ratio).round()[::-1].astype(np.int64).tolist()
    return (np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1).tolist()[:steps]


@pytest.mark.parametrize("spacing", SPACINGS)
def test_spacings_match_diffusers_and_are_valid_for_every_step_count(spacing):
    for T in (10, 50, 1000):
        for steps in range(1, T + 1):
            ts = spaced_timesteps(T, steps, spacing)
            assert len(ts) == steps and ts[0] < T and ts[-1] >= 0
            assert all(a > b for a, b in zip(ts, ts[1:], strict=False))
            assert ts == _diffusers_reference(T, steps, spacing), (T, steps)
        assert spaced_timesteps(T, T, spacing) == list(range(T - 1, -1, -1))
    with pytest.raises(GenvisionError, match="spacing"):
        spaced_timesteps(10, 5, "uniform")


def test_respacing_every_timestep_is_the_original_schedule():
    s = NoiseSchedule.cosine(40, dtype=torch.float64)
    abar = np.cumprod(1.0 - s.betas.numpy())
    np.testing.assert_allclose(respaced_betas(abar, range(40)), s.betas.numpy(), rtol=1e-12, atol=0)
    assert respace(s, range(39, -1, -1)) is s  # no respacing: the sampler runs the very same chain


def test_respaced_chain_keeps_the_marginals_at_the_kept_steps():
    """ᾱ of the respaced chain, prod_j (1 - β_{S_j}), telescopes to ᾱ_{S_i} of the original."""
    s = NoiseSchedule.linear(100, dtype=torch.float64)
    kept = [3, 10, 11, 40, 77, 99]
    r = respace(s, kept[::-1])
    assert r.num_timesteps == len(kept) and r.betas.dtype == torch.float64
    torch.testing.assert_close(r.alphas_cumprod, s.alphas_cumprod[kept], rtol=1e-12, atol=0)
    # β of the first kept step jumps from x_0 (ᾱ = 1): 1 - ᾱ_{S_0}.
    assert r.betas[0].item() == pytest.approx(1 - s.alphas_cumprod[3].item(), rel=1e-12)


def _chain_posterior(betas: np.ndarray, s: int, t: int, x0: float, xt: float) -> tuple[float, float]:
    """q(x_s | x_t, x_0) of the original chain, s < t, by Bayes with scalars: q(x_s | x_0) from iterating the
    chain from x_0, q(x_t | x_s) = N(a x_s, v) from iterating it from s (a, v composed step by step)."""
    mean_s, var_s = x0, 0.0
    for b in betas[: s + 1]:
        mean_s, var_s = math.sqrt(1 - b) * mean_s, (1 - b) * var_s + b
    a, v = 1.0, 0.0
    for b in betas[s + 1: t + 1]:
        a, v = math.sqrt(1 - b) * a, (1 - b) * v + b
    precision = a * a / v + 1 / var_s
    return (a * xt / v + mean_s / var_s) / precision, 1 / precision


def test_respaced_posterior_is_the_original_posterior_between_kept_steps():
    """The respaced chain's q(x_{S_{i-1}} | x_{S_i}, x_0) (Eq. 6-7 on the respaced betas) is the original
    process's posterior between the two kept timesteps, however many steps lie between them."""
    s = NoiseSchedule.cosine(60, dtype=torch.float64)
    kept = [0, 4, 5, 19, 41, 59]
    r = respace(s, kept)
    betas = s.betas.numpy()
    x0, xt = torch.tensor([[0.7]], dtype=torch.float64), torch.tensor([[-0.4]], dtype=torch.float64)
    for i in range(1, len(kept)):
        post = r.q_posterior(x0, xt, torch.tensor([i]))
        mean, var = _chain_posterior(betas, kept[i - 1], kept[i], 0.7, -0.4)
        assert post.mean.item() == pytest.approx(mean, rel=1e-9)
        assert post.variance.item() == pytest.approx(var, rel=1e-9)


@pytest.mark.parametrize("spacing", SPACINGS)
def test_ddpm_over_all_steps_is_unchanged_by_steps_and_spacing(spacing):
    s = NoiseSchedule.cosine(20)
    eps_fn = optimal_eps_fn(s, M, S)
    a = ddpm_sample(eps_fn, s, (16, 1, 2, 2), generator=_gen(3))
    b = ddpm_sample(eps_fn, s, (16, 1, 2, 2), steps=20, spacing=spacing, generator=_gen(3))
    assert torch.equal(a, b)


def test_respaced_ddpm_with_the_optimal_mean_and_variance_samples_the_data():
    """On Gaussian data the respaced chain's reverse conditionals are Gaussian too, so with the optimal ε (the
    model called at the original timestep) and the true reverse variance of the respaced chain, given as a
    learned-range fraction between *its* β̃ and β, 8 ancestral steps of a T=200 chain sample the data: mean
    M and std sqrt(S^2 - Var(x_0 | x_{S_0}))."""
    s = NoiseSchedule.cosine(200)
    ts = spaced_timesteps(200, 8, "trailing")
    r = respace(s, ts)
    var = reverse_variance(r, S)  # Var(x_{S_{i-1}} | x_{S_i}) of the respaced chain
    log_beta_tilde = r.posterior_log_variance_clipped.double().numpy()
    log_beta = np.log(r.betas.double().numpy())
    frac = (np.log(var) - log_beta_tilde) / (log_beta - log_beta_tilde)
    assert np.all((frac[1:] > 0) & (frac[1:] < 1))  # the truth lies between the two fixed choices
    v_raw = torch.tensor(2 * frac - 1, dtype=torch.float32)
    index = {t: i for i, t in enumerate(sorted(ts))}
    calls = []

    def learned_range_fn(x, t):  # the model's output is looked up by the *original* timestep
        calls.append(int(t[0]))
        return v_raw[index[int(t[0])]].expand_as(x)

    shape = (40_000, 1, 1, 1)
    x = ddpm_sample(optimal_eps_fn(s, M, S), s, shape, timesteps=ts, clip_x0=False,
                    learned_range_fn=learned_range_fn, generator=_gen(0))
    assert calls == ts
    assert x.mean().item() == pytest.approx(M, abs=0.004)
    assert x.std().item() == pytest.approx(math.sqrt(S**2 - var[0]), rel=0.015)
    # With β̃ of the respaced chain it under-disperses, as the full chain does (Ho et al. Sec. 3.2).
    lo = ddpm_sample(optimal_eps_fn(s, M, S), s, shape, steps=8, spacing="trailing", clip_x0=False,
                     generator=_gen(0))
    assert lo.std().item() < x.std().item() - 0.01


def test_learned_range_over_the_full_chain_is_the_log_variance_fn():
    from genvision.diffusion.losses import learned_range_log_variance

    s = NoiseSchedule.cosine(10)
    eps_fn = optimal_eps_fn(s, M, S)

    def v_raw(x, t):
        return torch.tanh(x + t.reshape(-1, 1, 1, 1) / 10)

    a = ddpm_sample(eps_fn, s, (4, 1, 2, 2), generator=_gen(0), learned_range_fn=v_raw)
    b = ddpm_sample(eps_fn, s, (4, 1, 2, 2), generator=_gen(0),
                    log_variance_fn=lambda x, t: learned_range_log_variance(s, t, v_raw(x, t)))
    assert torch.equal(a, b)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("spacing", SPACINGS)
def test_the_last_step_returns_the_predicted_x0_without_noise(sampler, spacing):
    """Salt check at the root: the sampler's output is exactly the x̂_0 of its last step (clipped), no noise
    added at t = 0, for the full and the respaced DDPM chain and DDIM at every spacing."""
    s = NoiseSchedule.cosine(30)
    eps_fn = optimal_eps_fn(s, 1.2, 0.5)  # partly outside [-1, 1]: clipping is active
    seen = {}

    def keep(i, t, x, x0):
        seen["x0"] = x0.clone()

    run = ddpm_sample if sampler == "ddpm" else ddim_sample
    for steps in (30, 6):
        x = run(eps_fn, s, (8, 1, 3, 3), steps=steps, spacing=spacing, generator=_gen(1), callback=keep)
        assert torch.equal(x, seen["x0"]) and x.abs().max() <= 1.0


def test_respacing_errors():
    s = NoiseSchedule.cosine(10)
    eps_fn = optimal_eps_fn(s, M, S)
    with pytest.raises(GenvisionError, match="either steps"):
        ddpm_sample(eps_fn, s, (1, 1, 2, 2), steps=5, timesteps=[8, 3])
    with pytest.raises(GenvisionError, match="learned_range_fn"):
        ddpm_sample(eps_fn, s, (1, 1, 2, 2), steps=5, log_variance_fn=lambda x, t: torch.zeros_like(x))
    with pytest.raises(GenvisionError, match="at least 2"):
        ddpm_sample(eps_fn, s, (1, 1, 2, 2), steps=1)
    with pytest.raises(GenvisionError, match="descending"):
        ddpm_sample(eps_fn, s, (1, 1, 2, 2), timesteps=[3, 8])


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("clip_x0", [True, False])
def test_ddim_eta1_is_the_respaced_ddpm_with_beta_tilde_pathwise(spacing, clip_x0):
    """DDIM's σ_t(η=1)^2 (Song et al. Eq. 16) between kept steps s < t is (1 - ᾱ_s)/(1 - ᾱ_t) (1 - ᾱ_t/ᾱ_s),
    the β̃ of the respaced chain, and its mean is that chain's posterior mean: the same sampler, draw for draw."""
    s = NoiseSchedule.cosine(40)
    eps_fn = optimal_eps_fn(s, 1.2, 0.5)
    a = ddpm_sample(eps_fn, s, (64, 1, 2, 2), steps=7, spacing=spacing, clip_x0=clip_x0, generator=_gen(3))
    b = ddim_sample(eps_fn, s, (64, 1, 2, 2), steps=7, spacing=spacing, eta=1.0, clip_x0=clip_x0,
                    generator=_gen(3))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
