"""Losses: L_simple, Gaussian KL, the discretised decoder, learned variance and L_hybrid."""

import math

import numpy as np
import pytest
import torch
from diffusion_toy import gaussian_data, optimal_eps_fn, reverse_variance
from scipy.stats import norm

from genvision.diffusion.losses import (
    _discretized_gaussian_log_likelihood,
    hybrid_loss,
    learned_range_log_variance,
    min_snr_weight,
    normal_kl,
    sample_training_timesteps,
    simple_loss,
    vlb_term,
)
from genvision.diffusion.parameterization import model_output_to_eps_x0, training_target
from genvision.diffusion.schedule import NoiseSchedule
from genvision.errors import GenvisionError


def test_simple_loss_is_per_example_mse():
    out = torch.tensor([[[[1.0, 2.0]]], [[[0.0, 0.0]]]])
    target = torch.tensor([[[[0.0, 0.0]]], [[[3.0, -1.0]]]])
    torch.testing.assert_close(simple_loss(out, target), torch.tensor([2.5, 5.0]))
    with pytest.raises(GenvisionError, match="shape"):
        simple_loss(out, target[:, :, :, :1])


def test_normal_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    m1, m2 = torch.randn(50, generator=g), torch.randn(50, generator=g)
    lv1, lv2 = torch.randn(50, generator=g), torch.randn(50, generator=g)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(m1, (0.5 * lv1).exp()), torch.distributions.Normal(m2, (0.5 * lv2).exp())
    )
    torch.testing.assert_close(normal_kl(m1, lv1, m2, lv2), ref)
    assert normal_kl(m1, lv1, m1, lv1).abs().max().item() < 1e-6


# ---- the discretised Gaussian decoder ------------------------------------------------------------


def _f64(v: float) -> torch.Tensor:
    return torch.tensor(v, dtype=torch.float64)


def _grid(n: int = 256) -> torch.Tensor:
    return torch.arange(n, dtype=torch.float64) * 2 / 255 - 1


def test_discretized_likelihood_matches_scipy():
    x = _grid()[torch.tensor([0, 1, 50, 127, 128, 200, 254, 255])]
    for mean, std in [(0.0, 0.3), (0.5, 0.05), (-0.98, 0.01), (0.99, 0.2)]:
        logp = _discretized_gaussian_log_likelihood(x, mean=_f64(mean), log_variance=_f64(2 * math.log(std)))
        xs = x.numpy()
        upper = np.where(xs > 0.999, np.inf, xs + 1 / 255)
        lower = np.where(xs < -0.999, -np.inf, xs - 1 / 255)
        with np.errstate(divide="ignore"):
            ref = np.log(norm.cdf(upper, mean, std) - norm.cdf(lower, mean, std))
        finite = ref > -600  # scipy's plain difference underflows beyond that; see the tail test below
        np.testing.assert_allclose(logp.numpy()[finite], ref[finite], rtol=1e-7)


def test_discretized_likelihood_is_a_distribution_over_256_levels():
    x = _grid()
    for mean, log_var in [(0.1, -2.0), (-0.7, -9.0), (1.3, 0.5)]:
        logp = _discretized_gaussian_log_likelihood(x, mean=_f64(mean), log_variance=_f64(log_var))
        assert logp.exp().sum().item() == pytest.approx(1.0, abs=1e-10)


def test_discretized_likelihood_far_tail_is_finite_and_matches_log_density():
    # Mean far from the bin (30 std): log P ~ log(φ(z) * width / σ); a naive CDF difference gives -inf.
    std = 0.02
    x = torch.tensor([0.0], dtype=torch.float64)
    logp = _discretized_gaussian_log_likelihood(x, mean=_f64(0.6), log_variance=_f64(2 * math.log(std)))
    lo, hi = (0.0 - 1 / 255 - 0.6) / std, (0.0 + 1 / 255 - 0.6) / std
    ref = norm.logsf(-hi) + math.log(-math.expm1(norm.logsf(-lo) - norm.logsf(-hi)))  # Φ(x) = sf(-x)
    assert math.isfinite(logp.item()) and logp.item() == pytest.approx(ref, rel=1e-9)


# ---- learned variance, vlb_term, hybrid loss -----------------------------------------------------


def test_learned_range_interpolates_between_beta_tilde_and_beta():
    s = NoiseSchedule.cosine(10)
    t = torch.tensor([0, 3, 9])
    ones = torch.ones(3, 1, 2, 2)
    lo = learned_range_log_variance(s, t, -ones)[:, 0, 0, 0]
    hi = learned_range_log_variance(s, t, ones)[:, 0, 0, 0]
    mid = learned_range_log_variance(s, t, 0 * ones)[:, 0, 0, 0]
    torch.testing.assert_close(lo, s.posterior_log_variance_clipped[t])
    torch.testing.assert_close(hi, s.betas[t].log())
    torch.testing.assert_close(mid, 0.5 * (lo + hi))


def test_vlb_term_is_zero_for_the_true_posterior_and_the_decoder_nll_at_t0():
    s = NoiseSchedule.cosine(10, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x0 = _grid()[torch.randint(0, 256, (4, 1, 2, 2), generator=g)]
    xt = torch.randn(4, 1, 2, 2, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 1, 5, 9])
    post = s.q_posterior(x0, xt, t)
    out = vlb_term(s, x0, xt, t, pred_mean=post.mean, pred_log_variance=post.log_variance)
    assert out[1:].abs().max().item() < 1e-12
    std = math.exp(0.5 * s.posterior_log_variance_clipped[0].item())
    xs, mu = x0[0].flatten().numpy(), post.mean[0].flatten().numpy()
    ref = -np.log(norm.cdf(xs + 1 / 255, mu, std) - norm.cdf(xs - 1 / 255, mu, std))
    ref = np.where(xs < -0.999, -norm.logcdf(xs + 1 / 255, mu, std), ref)
    ref = np.where(xs > 0.999, -norm.logsf(xs - 1 / 255, mu, std), ref)
    assert out[0].item() == pytest.approx(ref.sum(), rel=1e-9)


def test_hybrid_loss_trains_the_variance_only_through_the_vlb():
    s = NoiseSchedule.cosine(10)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(6, 1, 2, 2, generator=g) * 2 - 1
    noise = torch.randn(6, 1, 2, 2, generator=g)
    t = torch.tensor([0, 1, 2, 5, 8, 9])
    xt = s.q_sample(x0, t, noise)
    out = torch.randn(6, 1, 2, 2, generator=g, requires_grad=True)
    v_raw = torch.zeros(6, 1, 2, 2, requires_grad=True)
    h = hybrid_loss(s, x0, xt, t, noise, model_output=out, v_raw=v_raw, prediction="eps")
    torch.testing.assert_close(h.loss, h.simple + 1e-3 * 10 * h.vlb)
    h.loss.sum().backward()
    # Stop-gradient: the mean gets exactly the L_simple gradient.
    torch.testing.assert_close(out.grad, 2 * (out - noise).detach() / 4)
    assert v_raw.grad.abs().sum().item() > 0


def test_learned_variance_converges_to_the_true_reverse_variance():
    """Smoke training: minimising L_vlb over log Σ_t with the optimal mean gives Var(x_{t-1} | x_t).

    For x_0 ~ N(m, s^2), E KL(N(μ̃, β̃) || N(μ, σ^2)) is minimised at σ^2 = β̃_t + E(μ̃ - μ)^2 =
    Var(x_{t-1} | x_t) (law of total variance), which lies between β̃_t and β_t.
    """
    T, m, sd = 10, 0.2, 0.3
    s = NoiseSchedule.cosine(T)
    eps_fn = optimal_eps_fn(s, m, sd)
    g = torch.Generator().manual_seed(0)
    x0 = gaussian_data(2048, (1, 4, 4), m, sd, seed=1)
    t = torch.arange(1, T).repeat(2048 // (T - 1) + 1)[:2048]
    xt = s.q_sample(x0, t, torch.randn(x0.shape, generator=g))
    mean = s.q_posterior(s.predict_x0_from_eps(xt, t, eps_fn(xt, t)), xt, t).mean
    v_raw = torch.zeros(T, requires_grad=True)  # one learned interpolation weight per timestep

    def loss_fn() -> torch.Tensor:
        log_var = learned_range_log_variance(s, t, v_raw.tanh()[t].reshape(-1, 1, 1, 1))
        return vlb_term(s, x0, xt, t, pred_mean=mean, pred_log_variance=log_var).mean()

    opt = torch.optim.Adam([v_raw], lr=0.05)
    first = loss_fn().item()
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    assert loss_fn().item() < first - 1e-4
    true_var = reverse_variance(s, sd)
    learned = learned_range_log_variance(s, torch.arange(T), v_raw.tanh().reshape(-1, 1, 1, 1)).exp()
    np.testing.assert_allclose(learned.detach().flatten().numpy()[1:], true_var[1:], rtol=0.05)


def test_hybrid_loss_with_x0_prediction_uses_the_x0_target():
    s = NoiseSchedule.cosine(10)
    x0 = torch.rand(3, 1, 2, 2) * 2 - 1
    noise = torch.randn(3, 1, 2, 2)
    t = torch.tensor([1, 4, 7])
    xt = s.q_sample(x0, t, noise)
    h = hybrid_loss(s, x0, xt, t, noise, model_output=x0.clone(), v_raw=-torch.ones_like(x0), prediction="x0")
    assert h.simple.abs().max().item() == 0.0
    assert h.vlb.abs().max().item() < 1e-5  # perfect mean, β̃ variance: every KL term vanishes
    torch.testing.assert_close(training_target(s, x0, noise, t, prediction="x0"), x0)


# ---- min-SNR-γ weighting (Hang et al. 2023) -------------------------------------------------------


@pytest.mark.parametrize("gamma", [5.0, 1.0])
def test_min_snr_weight_matches_the_closed_form_for_each_prediction(gamma):
    s = NoiseSchedule.cosine(1000)
    t = torch.arange(1000)
    f = np.cos((np.arange(1001) / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    ac = np.cumprod(1 - np.minimum(1 - f[1:] / f[:-1], 0.999))  # ᾱ_t in float64, from Eq. 17 directly
    snr = ac / (1 - ac)
    expected = {"eps": np.minimum(snr, gamma) / snr, "x0": np.minimum(snr, gamma),
                "v": np.minimum(snr, gamma) / (snr + 1)}
    for prediction, ref in expected.items():
        w = min_snr_weight(s, t, prediction=prediction, gamma=gamma)
        assert w.shape == (1000,) and w.dtype == torch.float32
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-5, atol=1e-12)
    # the ends: ε is down-weighted where SNR > γ and unweighted in the noisy half
    w_eps = min_snr_weight(s, t, prediction="eps", gamma=gamma).numpy()
    assert w_eps[0] < 1e-3 and w_eps[-1] == 1.0 and np.all(np.diff(w_eps) >= 0)


def test_min_snr_makes_the_three_parameterisations_one_loss():
    """The weighted ε-, x_0- and v-losses of the same x̂_0 are all min(SNR, γ) ||x_0 - x̂_0||^2."""
    s = NoiseSchedule.cosine(100, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(6, 1, 3, 3, generator=g, dtype=torch.float64) * 2 - 1
    noise = torch.randn(6, 1, 3, 3, generator=g, dtype=torch.float64)
    x0_hat = x0 + 0.1 * torch.randn(6, 1, 3, 3, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 5, 20, 50, 80, 99])
    xt = s.q_sample(x0, t, noise)
    eps_hat = s.predict_eps_from_x0(xt, t, x0_hat)
    outputs = {"x0": x0_hat, "eps": eps_hat, "v": s.v_from_eps(x0_hat, eps_hat, t)}
    snr = s.alphas_cumprod[t] / (1 - s.alphas_cumprod[t])
    ref = snr.clamp(max=5.0) * ((x0 - x0_hat) ** 2).mean(dim=(1, 2, 3))
    for prediction, out in outputs.items():
        assert torch.allclose(model_output_to_eps_x0(s, xt, t, out, prediction=prediction).x0, x0_hat)
        loss = simple_loss(out, training_target(s, x0, noise, t, prediction=prediction))
        weighted = min_snr_weight(s, t, prediction=prediction, gamma=5.0).double() * loss
        torch.testing.assert_close(weighted, ref, rtol=1e-5, atol=0)


def test_min_snr_weight_rejects_bad_options():
    s = NoiseSchedule.cosine(10)
    with pytest.raises(GenvisionError, match="prediction"):
        min_snr_weight(s, torch.tensor([1]), prediction="score", gamma=5.0)
    with pytest.raises(GenvisionError, match="gamma"):
        min_snr_weight(s, torch.tensor([1]), prediction="eps", gamma=0.0)


def test_hybrid_loss_weights_only_the_simple_term():
    s = NoiseSchedule.cosine(10)
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(3, 1, 2, 2, generator=g) * 2 - 1
    noise = torch.randn(3, 1, 2, 2, generator=g)
    t = torch.tensor([1, 4, 7])
    xt = s.q_sample(x0, t, noise)
    out, v_raw = torch.randn(3, 1, 2, 2, generator=g), torch.rand(3, 1, 2, 2, generator=g) * 2 - 1
    plain = hybrid_loss(s, x0, xt, t, noise, model_output=out, v_raw=v_raw)
    w = torch.tensor([0.5, 2.0, 0.0])
    weighted = hybrid_loss(s, x0, xt, t, noise, model_output=out, v_raw=v_raw, simple_weight=w)
    torch.testing.assert_close(weighted.simple, plain.simple)
    torch.testing.assert_close(weighted.loss - plain.loss, (w - 1) * plain.simple)


@pytest.mark.parametrize("mean,std", [(0.0, 1.0), (0.5, 1.0), (-1.0, 0.5)])
def test_logit_normal_timesteps_follow_their_cdf(mean, std):
    """t = floor(u T), u = sigmoid(m + s n): P(t < k) = P(u < k/T) = Phi((logit(k/T) - m) / s) exactly."""
    T, n = 1000, 200_000
    t = sample_training_timesteps(T, n, scheme="logit_normal", logit_mean=mean, logit_std=std,
                                  generator=torch.Generator().manual_seed(0))
    assert t.dtype == torch.long and t.min() >= 0 and t.max() <= T - 1
    for k in (100, 300, 500, 700, 900):
        p = norm.cdf((math.log(k / T) - math.log(1 - k / T) - mean) / std)
        se = math.sqrt(p * (1 - p) / n)
        assert abs((t < k).float().mean().item() - p) < 4 * se + 1e-4


@pytest.mark.parametrize("frac", [0.25, 1.0])
def test_uniform_fraction_mixes_uniform_into_logit_normal(frac):
    """The mixture's CDF is p k/T + (1 - p) Phi((logit(k/T) - m) / s); at k = 10 of 1000 (nearly clean steps)
    m = 2 alone gives P(t < k) = Phi(-6.6) ~ 0, the mixture keeps p k/T."""
    T, n, m, s = 1000, 200_000, 2.0, 1.0
    t = sample_training_timesteps(T, n, scheme="logit_normal", logit_mean=m, logit_std=s, uniform_fraction=frac,
                                  generator=torch.Generator().manual_seed(1))
    assert t.dtype == torch.long and t.min() >= 0 and t.max() <= T - 1
    for k in (10, 100, 500, 900):
        p = frac * k / T + (1 - frac) * norm.cdf((math.log(k / T) - math.log(1 - k / T) - m) / s)
        se = math.sqrt(p * (1 - p) / n)
        assert abs((t < k).float().mean().item() - p) < 4 * se + 1e-4
    with pytest.raises(GenvisionError, match="uniform_fraction"):
        sample_training_timesteps(T, 4, scheme="logit_normal", uniform_fraction=1.5)


def test_uniform_timesteps_are_uniform_and_bad_schemes_are_refused():
    T, n = 10, 100_000
    t = sample_training_timesteps(T, n, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(t, minlength=T).double() / n
    assert counts.numel() == T and (counts - 0.1).abs().max() < 0.006  # 4 standard errors of 1/T
    with pytest.raises(GenvisionError, match="timestep_sampling"):
        sample_training_timesteps(T, 4, scheme="lognormal")
    with pytest.raises(GenvisionError, match="logit_std"):
        sample_training_timesteps(T, 4, scheme="logit_normal", logit_std=0.0)
