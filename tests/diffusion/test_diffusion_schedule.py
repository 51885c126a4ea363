"""Golden math of the noise schedule: ᾱ against numpy, q(x_t | x_0), the posterior, ε/x_0/v conversions."""

import math

import numpy as np
import pytest
import torch

from genvision.diffusion.parameterization import model_output_to_eps_x0, training_target
from genvision.diffusion.schedule import NoiseSchedule, extract
from genvision.errors import GenvisionError


def _t(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def _scalar(v: float) -> torch.Tensor:
    return torch.tensor([[v]], dtype=torch.float64)


# ---- schedules against numpy references ---------------------------------------------------------


@pytest.mark.parametrize(("T", "start", "end"), [(1000, 1e-4, 0.02), (100, 1e-3, 0.2), (50, 2e-3, 0.4)])
def test_linear_alphas_cumprod_matches_numpy(T, start, end):
    s = NoiseSchedule.linear(T)
    ref = np.cumprod(1.0 - np.linspace(start, end, T))
    np.testing.assert_allclose(s.betas.numpy(), np.linspace(start, end, T), rtol=1e-6)
    np.testing.assert_allclose(s.alphas_cumprod.numpy(), ref, rtol=1e-5)
    assert s.num_timesteps == T


def test_linear_T1000_golden_value():
    # ᾱ_T of the DDPM CIFAR schedule: the signal left at the end is sqrt(4.04e-5) ~ 0.0064.
    assert NoiseSchedule.linear(1000).alphas_cumprod[-1].item() == pytest.approx(4.0358e-5, rel=1e-3)


@pytest.mark.parametrize("T", [1000, 30])
def test_cosine_alphas_cumprod_matches_closed_form(T):
    s = NoiseSchedule.cosine(T)
    f = lambda t: np.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    ref = f(np.arange(1, T + 1)) / f(0)  # ᾱ(t) = f(t) / f(0), Eq. 17 Nichol & Dhariwal
    # The last beta is clipped at 0.999 (f(T) = 0), so only the steps before it follow the formula.
    np.testing.assert_allclose(s.alphas_cumprod.numpy()[:-1], ref[:-1], rtol=1e-5)
    assert s.betas.max().item() == pytest.approx(0.999)
    assert s.alphas_cumprod[-1].item() == pytest.approx(0.001 * s.alphas_cumprod[-2].item(), rel=1e-5)


def test_derived_buffers():
    s = NoiseSchedule.cosine(20, dtype=torch.float64)
    b = s.betas.numpy()
    ac = np.cumprod(1 - b)
    acp = np.append(1.0, ac[:-1])
    pv = b * (1 - acp) / (1 - ac)
    close = lambda a, b: np.testing.assert_allclose(a.numpy(), b, rtol=1e-12)  # noqa: E731
    close(s.alphas_cumprod_prev, acp)
    close(s.posterior_variance, pv)
    assert s.posterior_variance[0].item() == 0.0
    close(s.posterior_log_variance_clipped, np.log(np.append(pv[1], pv[1:])))
    close(s.posterior_mean_coef1, b * np.sqrt(acp) / (1 - ac))
    close(s.posterior_mean_coef2, (1 - acp) * np.sqrt(1 - b) / (1 - ac))


def test_buffers_are_float32_and_move_with_the_module():
    s = NoiseSchedule.linear(100)
    assert s.alphas_cumprod.dtype == torch.float32
    assert "posterior_mean_coef1" in s.state_dict()
    s64 = NoiseSchedule.linear(100, dtype=torch.float64)
    assert s64.alphas_cumprod.dtype == torch.float64
    torch.testing.assert_close(s64.alphas_cumprod.float(), s.alphas_cumprod)
    assert s.double().alphas_cumprod.dtype == torch.float64


def test_from_name_and_errors():
    torch.testing.assert_close(NoiseSchedule.from_name("cosine", 40).betas, NoiseSchedule.cosine(40).betas)
    torch.testing.assert_close(NoiseSchedule.from_name("linear", 40).betas, NoiseSchedule.linear(40).betas)
    with pytest.raises(GenvisionError, match="unknown noise schedule 'quadratic'"):
        NoiseSchedule.from_name("quadratic", 40)
    with pytest.raises(GenvisionError, match="T=10"):
        NoiseSchedule.linear(10)  # rescaled beta_end = 2 > 1
    with pytest.raises(GenvisionError, match="betas"):
        NoiseSchedule(np.array([0.1, 1.5]))


def test_extract_shape_and_values():
    values = torch.arange(10.0)
    out = extract(values, _t(3, 0, 9), 4)
    assert out.shape == (3, 1, 1, 1)
    assert out.flatten().tolist() == [3.0, 0.0, 9.0]
    with pytest.raises(GenvisionError, match="shape"):
        extract(values, torch.zeros(2, 2, dtype=torch.long), 4)


# ---- forward process -----------------------------------------------------------------------------


def test_closed_form_marginal_matches_iterating_the_chain():
    """q(x_t | x_0) (Eq. 4) against x_t = sqrt(1 - β_t) x_{t-1} + sqrt(β_t) z applied t+1 times."""
    s = NoiseSchedule.cosine(20)
    g = torch.Generator().manual_seed(0)
    n, x0_value = 20_000, 0.7
    x = torch.full((n, 1, 1, 1), x0_value)
    for t in range(s.num_timesteps):
        x = (1 - s.betas[t]).sqrt() * x + s.betas[t].sqrt() * torch.randn(x.shape, generator=g)
        if t in (0, 4, 12, 19):
            tt = torch.full((n,), t)
            q = s.q_mean_variance(torch.full_like(x, x0_value), tt)
            se = q.variance[0].sqrt().item() / math.sqrt(n)
            assert x.mean().item() == pytest.approx(q.mean[0].item(), abs=5 * se)
            assert x.var().item() == pytest.approx(q.variance[0].item(), rel=0.05)
            direct = s.q_sample(torch.full_like(x, x0_value), tt, torch.randn(x.shape, generator=g))
            assert direct.mean().item() == pytest.approx(q.mean[0].item(), abs=5 * se)
            assert direct.var().item() == pytest.approx(q.variance[0].item(), rel=0.05)
            assert math.exp(q.log_variance[0].item()) == pytest.approx(q.variance[0].item(), rel=1e-6)


def test_posterior_matches_bayes_rule_for_scalar_gaussians():
    """q(x_{t-1} | x_t, x_0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x_0): precision-weighted Gaussians."""
    s = NoiseSchedule.linear(100, dtype=torch.float64)
    ac = np.cumprod(1 - s.betas.numpy())
    x0, xt = 0.4, -1.3
    for t in (1, 2, 37, 99):  # code index t: q(x_t | x_{t-1}) has β_t, prior q(x_{t-1} | x_0) has ᾱ_{t-1}
        beta, acp = s.betas[t].item(), ac[t - 1]
        prec = 1 / (1 - acp) + (1 - beta) / beta
        mean = (math.sqrt(acp) * x0 / (1 - acp) + math.sqrt(1 - beta) * xt / beta) / prec
        post = s.q_posterior(_scalar(x0), _scalar(xt), _t(t))
        assert post.mean.item() == pytest.approx(mean, rel=1e-9)
        assert post.variance.item() == pytest.approx(1 / prec, rel=1e-9)
        assert post.log_variance.item() == pytest.approx(-math.log(prec), rel=1e-9)
    # t = 0: x_{-1} is x_0 itself, known exactly.
    post = s.q_posterior(_scalar(x0), _scalar(xt), _t(0))
    assert post.mean.item() == pytest.approx(x0, abs=1e-12)
    assert post.variance.item() == 0.0


def test_posterior_broadcasts_over_images():
    s = NoiseSchedule.cosine(10)
    x0, xt = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    t = _t(0, 5, 9)
    post = s.q_posterior(x0, xt, t)
    assert post.mean.shape == (3, 2, 4, 4) and post.variance.shape == (3, 1, 1, 1)
    expected = s.posterior_mean_coef1[5] * x0[1] + s.posterior_mean_coef2[5] * xt[1]
    torch.testing.assert_close(post.mean[1], expected)


# ---- ε <-> x_0 <-> v -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cosine", "linear"])
def test_eps_x0_v_round_trips(name):
    s = NoiseSchedule.from_name(name, 1000, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    T = s.num_timesteps
    t = torch.arange(T)
    x0 = torch.rand((T, 3, 2, 2), generator=g, dtype=torch.float64) * 2 - 1
    eps = torch.randn((T, 3, 2, 2), generator=g, dtype=torch.float64)
    xt = s.q_sample(x0, t, eps)
    torch.testing.assert_close(s.predict_x0_from_eps(xt, t, eps), x0, atol=1e-5, rtol=0)
    torch.testing.assert_close(s.predict_eps_from_x0(xt, t, x0), eps, atol=1e-5, rtol=0)
    v = s.get_v(x0, eps, t)
    torch.testing.assert_close(s.v_from_eps(x0, eps, t), v)
    torch.testing.assert_close(s.predict_x0_from_v(xt, t, v), x0, atol=1e-5, rtol=0)
    torch.testing.assert_close(s.predict_eps_from_v(xt, t, v), eps, atol=1e-5, rtol=0)
    # v is the time derivative of the rotation (x_0, ε) -> x_t: |x_t|^2 + |v|^2 = |x_0|^2 + |ε|^2.
    torch.testing.assert_close(xt**2 + v**2, x0**2 + eps**2)


def test_v_round_trip_float32_all_timesteps():
    s = NoiseSchedule.cosine(1000)
    t = torch.arange(1000)
    x0, eps = torch.rand(1000, 1, 2, 2) * 2 - 1, torch.randn(1000, 1, 2, 2)
    xt = s.q_sample(x0, t, eps)
    v = s.get_v(x0, eps, t)
    torch.testing.assert_close(s.predict_x0_from_v(xt, t, v), x0, atol=1e-5, rtol=0)
    torch.testing.assert_close(s.predict_eps_from_v(xt, t, v), eps, atol=1e-5, rtol=0)


@pytest.mark.parametrize("prediction", ["eps", "x0", "v"])
def test_training_target_is_read_back_as_the_true_eps_and_x0(prediction):
    s = NoiseSchedule.cosine(30, dtype=torch.float64)
    t = torch.arange(30)
    x0 = torch.rand(30, 1, 3, 3, dtype=torch.float64) * 2 - 1
    eps = torch.randn(30, 1, 3, 3, dtype=torch.float64)
    xt = s.q_sample(x0, t, eps)
    target = training_target(s, x0, eps, t, prediction=prediction)
    out = model_output_to_eps_x0(s, xt, t, target, prediction=prediction)
    torch.testing.assert_close(out.eps, eps, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.x0, x0, atol=1e-5, rtol=0)


def test_unknown_prediction_raises():
    s = NoiseSchedule.cosine(10)
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(GenvisionError, match="prediction 'score'"):
        training_target(s, x, x, _t(0), prediction="score")
    with pytest.raises(GenvisionError, match="prediction 'score'"):
        model_output_to_eps_x0(s, x, _t(0), x, prediction="score")
