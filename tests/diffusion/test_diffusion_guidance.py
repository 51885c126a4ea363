"""Guidance: the three CFG conventions, and the ADM-G updates against their formulas."""

import pytest
import torch

from genvision.diffusion.guidance import (
    classifier_free_eps,
    classifier_guided_ddpm_sample,
    classifier_guided_eps,
    classifier_log_prob_grad,
    guidance_weight,
)
from genvision.diffusion.samplers import ddim_sample, ddpm_sample
from genvision.diffusion.schedule import NoiseSchedule, extract
from genvision.errors import GenvisionError

NULL = 10


def toy_denoise(x, t, labels):
    """A denoiser whose conditional and unconditional outputs differ in a known way."""
    lab = labels.float()[:, None, None, None]
    return 0.5 * x + 0.01 * t.float()[:, None, None, None] + 0.1 * lab - 0.7 * (labels == NULL).float()[
        :, None, None, None]


@pytest.mark.parametrize("w", [-1.0, -0.25, 0.0, 0.5, 3.0])
def test_three_cfg_conventions_agree(w):
    x = torch.randn(6, 1, 4, 4)
    t = torch.arange(6)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    weights = [guidance_weight(weight=w), guidance_weight(scale=1 + w)]
    if 0 <= 1 + w <= 1:
        weights.append(guidance_weight(lam=1 + w))
    eps = [classifier_free_eps(toy_denoise, labels, null_label=NULL, weight=v)(x, t) for v in weights]
    for e in eps[1:]:
        torch.testing.assert_close(e, eps[0], rtol=0, atol=1e-6)
    eps_c, eps_u = toy_denoise(x, t, labels), toy_denoise(x, t, torch.full_like(labels, NULL))
    torch.testing.assert_close(eps[0], (1 + w) * eps_c - w * eps_u, rtol=0, atol=1e-6)  # CFG Eq. 6


def test_lambda_endpoints_are_unconditional_and_conditional():
    x, t, labels = torch.randn(3, 1, 4, 4), torch.tensor([5, 9, 1]), torch.tensor([2, 7, 4])
    lam0 = classifier_free_eps(toy_denoise, labels, null_label=NULL, weight=guidance_weight(lam=0.0))(x, t)
    lam1 = classifier_free_eps(toy_denoise, labels, null_label=NULL, weight=guidance_weight(lam=1.0))(x, t)
    assert torch.equal(lam0, toy_denoise(x, t, torch.full_like(labels, NULL)))
    assert torch.equal(lam1, toy_denoise(x, t, labels))


def test_conventions_are_mutually_exclusive_and_checked():
    with pytest.raises(GenvisionError, match="only one"):
        guidance_weight(weight=1.0, scale=2.0)
    with pytest.raises(GenvisionError, match="finite"):
        guidance_weight(scale=float("inf"))
    assert guidance_weight() == 0.0


def test_cfg_is_one_batched_forward():
    calls = []

    def denoise(x, t, labels):
        calls.append(x.shape[0])
        return toy_denoise(x, t, labels)

    classifier_free_eps(denoise, torch.tensor([1, 2]), null_label=NULL, weight=2.0)(
        torch.randn(2, 1, 4, 4), torch.tensor([3, 3]))
    assert calls == [4]


class LinearClassifier(torch.nn.Module):
    """logits_k = <w_k, x>: ∇_x log p(y|x) = w_y - Σ_k p_k w_k in closed form."""

    def __init__(self, k=3, d=16):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(k, d, generator=torch.Generator().manual_seed(1)))

    def forward(self, x, t):
        return x.flatten(1) @ self.w.T

    def analytic_grad(self, x, y):
        p = torch.softmax(self(x, None), dim=-1)
        return (self.w[y] - p @ self.w).view_as(x)


def test_classifier_gradient_matches_closed_form():
    clf = LinearClassifier()
    x, y = torch.randn(5, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1])
    grad = classifier_log_prob_grad(clf, y)(x, torch.zeros(5, dtype=torch.long))
    torch.testing.assert_close(grad, clf.analytic_grad(x, y))


def test_guided_eps_is_adm_algorithm_2():
    sched = NoiseSchedule.cosine(20)
    clf = LinearClassifier()
    x, y, t = torch.randn(5, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1]), torch.tensor([0, 3, 7, 12, 19])
    base = lambda x, t: 0.3 * x  # noqa: E731
    guided = classifier_guided_eps(base, classifier_log_prob_grad(clf, y), sched, scale=2.5)(x, t)
    sigma = extract(sched.sqrt_one_minus_alphas_cumprod, t, 4)
    torch.testing.assert_close(guided, 0.3 * x - 2.5 * sigma * clf.analytic_grad(x, y))
    assert classifier_guided_eps(base, None, sched, scale=0.0) is base


def test_guided_ddpm_is_adm_algorithm_1_and_scale_zero_is_unguided():
    sched = NoiseSchedule.cosine(6)
    clf = LinearClassifier()
    y = torch.tensor([0, 1, 2, 1])
    eps_fn = lambda x, t: 0.2 * x  # noqa: E731
    grad_fn = classifier_log_prob_grad(clf, y)
    shape = (4, 1, 4, 4)
    plain = ddpm_sample(eps_fn, sched, shape, generator=torch.Generator().manual_seed(3))
    zero = classifier_guided_ddpm_sample(eps_fn, grad_fn, sched, shape, scale=0.0,
                                         generator=torch.Generator().manual_seed(3))
    assert torch.equal(plain, zero)

    # By hand: x_{t-1} = μ + s Σ ∇log p(y|x_t) + σ z, with μ, Σ of the x0-clipped posterior (Eq. 7).
    from genvision.diffusion.samplers import ddpm_transition, sample_transition

    g = torch.Generator().manual_seed(4)
    x = torch.randn(shape, generator=g)
    for t in range(5, -1, -1):
        tt = torch.full((4,), t)
        tr = ddpm_transition(sched, x, t, eps_fn(x, tt))
        tr = tr._replace(mean=tr.mean + 1.5 * tr.variance * clf.analytic_grad(x, y))
        x = sample_transition(tr, t, generator=g)
    guided = classifier_guided_ddpm_sample(eps_fn, grad_fn, sched, shape, scale=1.5,
                                           generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(guided, x)
    assert not torch.allclose(guided, zero)


def test_guidance_raises_classifier_probability():
    """With a strong scale, DDIM samples move towards the classifier's label."""
    sched = NoiseSchedule.cosine(50)
    clf = LinearClassifier()
    y = torch.full((64,), 2)
    eps_fn = lambda x, t: torch.zeros_like(x)  # noqa: E731
    fn = classifier_guided_eps(eps_fn, classifier_log_prob_grad(clf, y), sched, scale=5.0)
    gen = torch.Generator().manual_seed(0)
    x_plain = ddim_sample(eps_fn, sched, (64, 1, 4, 4), steps=10, clip_x0=False, generator=gen)
    x_guided = ddim_sample(fn, sched, (64, 1, 4, 4), steps=10, clip_x0=False,
                           generator=torch.Generator().manual_seed(0))
    p = lambda x: torch.softmax(clf(x, None), -1)[:, 2].mean()  # noqa: E731
    assert p(x_guided) > p(x_plain) + 0.2


def test_lambda_beyond_one_is_guidance():
    """The lecture's λ = 1 + w: λ > 1 extrapolates past the conditional model (w = λ - 1 > 0)."""
    assert guidance_weight(lam=3.0) == 2.0
    assert guidance_weight(lam=-0.5) == -1.5
    with pytest.raises(GenvisionError, match="finite"):
        guidance_weight(lam=float("nan"))
