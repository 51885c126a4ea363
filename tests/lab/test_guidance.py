import pytest
import torch

from genvision.errors import GenvisionError
from genvision.lab.guidance import cfg_tab as run_cfg
from genvision.lab.guidance import (
    classifier_guidance_tab,
    describe_weight,
    lambda_to_weight,
    per_sample_cfg_eps,
)
from genvision.lab.images import show_grid


def test_lambda_to_weight_matches_the_three_conventions():
    assert [lambda_to_weight(v) for v in (0, 1, 7)] == [-1.0, 0.0, 6.0]
    assert "w = λ − 1 = 2" in describe_weight(3.0) and "s = 1 + w = 3" in describe_weight(3.0)
    assert "unconditional" in describe_weight(0.0)


def test_per_sample_weights_equal_the_models_guided_eps(cfg_model):
    x, t = torch.randn(3, 1, 8, 8), torch.tensor([10, 10, 10])
    labels, weights = torch.tensor([0, 1, 2]), torch.tensor([-1.0, 0.0, 2.5])
    mixed = per_sample_cfg_eps(cfg_model, labels, weights)(x, t)
    for i in range(3):
        ref = cfg_model.eps_fn(labels[i:i + 1], weight=float(weights[i]))(x[i:i + 1], t[i:i + 1])
        torch.testing.assert_close(mixed[i:i + 1], ref, atol=1e-5, rtol=1e-5)


def test_cfg_samples_equal_model_sample_and_the_row_shares_sample_0s_noise(cfg_model):
    r = run_cfg(cfg_model, label=2, lam=2.0, steps=4, seed=5, n=3, row_lambdas=(1.0, 2.0))
    ref = cfg_model.sample(3, labels=torch.full((3,), 2), generator=torch.Generator().manual_seed(5), steps=4,
                           eta=0.0, guidance_weight=1.0)  # the lab runs deterministic DDIM: one x_T per row
    torch.testing.assert_close(r.samples, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(r.row[1], ref[0], atol=1e-5, rtol=1e-5)  # lam = 2 in the row is sample 0
    plain = cfg_model.sample(1, labels=torch.tensor([2]), generator=torch.Generator().manual_seed(5), steps=4,
                             eta=0.0)
    torch.testing.assert_close(r.row[0], plain[0], atol=1e-5, rtol=1e-5)  # lam = 1: the conditional model
    # two rows (x_t, predicted x_0) of 4 frames (all 4 steps) of 8x8 images, 2 px padding, upscaled x4
    assert r.filmstrip.shape == ((2 * (8 + 2) + 2) * 4, (4 * (8 + 2) + 2) * 4, 3)


def test_cfg_rejects_bad_input(cfg_model):
    with pytest.raises(GenvisionError, match="out of range"):
        run_cfg(cfg_model, label=3, lam=1.0, steps=2, n=1)
    with pytest.raises(GenvisionError, match=">= 0"):
        run_cfg(cfg_model, label=0, lam=-1.0, steps=2, n=1)


def test_classifier_guidance_records_p_y_per_step_and_scale_0_is_unguided(ddpm_and_classifier):
    model, clf = ddpm_and_classifier
    seen = []
    r = classifier_guidance_tab(model, clf, label=1, scale=0.0, steps=5, n=2, seed=3,
                                progress=lambda f, what: seen.append(f))
    assert r.prob.shape == (5, 2) and r.timesteps == sorted(r.timesteps, reverse=True)
    assert ((r.prob >= 0) & (r.prob <= 1)).all() and seen[-1] == 1.0
    plain = model.sample(2, generator=torch.Generator().manual_seed(3), steps=5)
    assert r.grid.shape[2] == 3
    guided = classifier_guidance_tab(model, clf, label=1, scale=5.0, steps=5, n=2, seed=3)
    unguided_grid = r.grid
    assert (guided.grid != unguided_grid).any()
    assert (show_grid(plain, nrow=2) == unguided_grid).all()


def test_classifier_guidance_rejects_bad_input(ddpm_and_classifier):
    model, clf = ddpm_and_classifier
    with pytest.raises(GenvisionError, match="sampler"):
        classifier_guidance_tab(model, clf, label=1, scale=1.0, sampler="euler", n=1)
    with pytest.raises(GenvisionError, match="out of range"):
        classifier_guidance_tab(model, clf, label=7, scale=1.0, n=1)
