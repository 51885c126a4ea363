"""The DDPM model end to end on tiny configs: training lowers the loss, sampling is deterministic."""

import pytest
import torch

from genvision.data import load_dataset
from genvision.diffusion.model import DDPMConfig, DiffusionModel
from genvision.diffusion.noisy_classifier import NoisyClassifier, NoisyClassifierConfig
from genvision.diffusion.parameterization import model_output_to_eps_x0
from genvision.errors import GenvisionError
from genvision.train.config import TrainConfig
from genvision.train.trainer import Trainer

TINY = dict(base_channels=8, channel_mults=(1, 2), num_res_blocks=1, attention_resolutions=(4,), timesteps=50)


def _model(cond=False, **overrides):
    torch.manual_seed(0)
    return DiffusionModel(DDPMConfig(**{**TINY, **overrides}, class_conditional=cond), (1, 8, 8), 10)


@pytest.mark.parametrize("patch_size", [1, 2])
def test_training_lowers_loss(patch_size):
    data = load_dataset("digits", split="train")
    model = _model(cond=True, patch_size=patch_size)
    cfg = TrainConfig(steps=60, batch_size=32, lr=3e-3, warmup_steps=5, progress=False, val_every=0,
                      ckpt_every=0, log_every=10, device="cpu", bf16=False)
    trainer = Trainer(model, data, val_data=load_dataset("digits", split="val"), config=cfg)
    before = trainer.validate()["val/loss"]
    after = trainer.fit()["val/loss"]
    assert after < (0.6 if patch_size == 1 else 0.7) * before  # patch 2 runs this 8x8 digit as a 4x4 map


def test_patch_size_runs_the_unet_on_the_folded_map_and_unfolds_its_output():
    """patch_size p: (B, C, H, W) -> pixel_unshuffle -> (B, C p^2, H/p, W/p) -> UNet -> pixel_shuffle -> (B, C, H, W).
    The stem sees C p^2 channels at H/p, the output conv writes C p^2 (2 C p^2 with a learned variance)."""
    for learn_variance, out_c in [(False, 1), (True, 2)]:
        model = _model(patch_size=2, learn_variance=learn_variance)
        stem, out_conv = model.unet.encoder.stem, model.unet.out_conv
        assert (stem.in_channels, out_conv.out_channels) == (4, 4 * out_c)
        torch.nn.init.normal_(out_conv.weight)  # zero-initialised: make the output depend on the input
        seen = []
        stem.register_forward_hook(lambda m, i, o, seen=seen: seen.append(tuple(i[0].shape)))
        x = torch.randn(3, 1, 8, 8, requires_grad=True)
        out = model.unet(x, torch.tensor([1, 2, 3]))
        assert seen == [(3, 4, 4, 4)] and out.shape == (3, out_c, 8, 8)
        out[0, 0, 0, 0].backward()  # image 0's output depends on image 0's pixels and no other image's
        assert x.grad[0].abs().sum() > 0 and x.grad[1:].abs().sum() == 0


def test_patch_size_must_divide_the_image():
    with pytest.raises(GenvisionError, match="patch_size 3 must divide the image size 8"):
        _model(patch_size=3)
    with pytest.raises(GenvisionError, match="--patch-size must be >= 1, got 0"):
        DDPMConfig(**TINY, patch_size=0)


def test_bf16_sampling_runs_the_network_in_bf16_and_the_sampler_in_fp32():
    """--bf16 puts the UNet's convolutions under bf16 autocast; x_t, x0_hat and the result stay fp32 and close to
    the fp32 draw from the same x_T (deterministic DDIM, so the two paths differ only by rounding)."""
    model = _model(cond=True).eval()
    with torch.no_grad():  # the output layer starts at zero: give the untrained net an output
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    seen: list[torch.dtype] = []
    hook = model.unet.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    kw = dict(labels=torch.tensor([1, 2, 3, 4]), steps=5, eta=0.0, guidance_weight=1.0)
    full = model.sample(4, generator=torch.Generator().manual_seed(3), **kw)
    assert set(seen) == {torch.float32}
    seen.clear()
    half = model.sample(4, generator=torch.Generator().manual_seed(3), bf16=True, **kw)
    hook.remove()
    assert set(seen) == {torch.bfloat16} and half.dtype == torch.float32
    assert 0 < (half - full).abs().mean() < 0.05


def test_sampling_is_deterministic_and_in_range():
    model = _model(cond=True).eval()
    labels = torch.tensor([1, 2, 3])
    kw = dict(labels=labels, steps=5, guidance_weight=2.0)
    a = model.sample(3, generator=torch.Generator().manual_seed(7), **kw)
    b = model.sample(3, generator=torch.Generator().manual_seed(7), **kw)
    assert a.shape == (3, 1, 8, 8) and torch.equal(a, b) and a.abs().max() <= 1.0
    c = model.sample(3, generator=torch.Generator().manual_seed(7), sampler="ddpm", labels=labels)
    assert c.shape == a.shape


def test_label_errors_are_one_line():
    cond, uncond = _model(cond=True), _model(cond=False)
    with pytest.raises(GenvisionError, match="not class-conditional"):
        uncond.sample(2, labels=torch.tensor([1, 2]))
    with pytest.raises(GenvisionError, match=r"0\.\.9"):
        cond.sample(2, labels=torch.tensor([1, 12]))
    with pytest.raises(GenvisionError, match="needs a class-conditional"):
        uncond.sample(2, guidance_weight=1.0)


def test_label_dropout_uses_the_null_class():
    model = _model(cond=True)
    seen = []
    orig = model.unet.forward
    model.unet.forward = lambda x, t, labels=None: (seen.append(labels.clone()), orig(x, t, labels))[1]
    torch.manual_seed(0)
    model.loss({"image": torch.zeros(2000, 1, 8, 8), "label": torch.zeros(2000, dtype=torch.long)})
    frac_null = (seen[0] == 10).float().mean().item()  # the literal index: comparing with model.null_label hid it
    assert abs(frac_null - 0.1) < 0.03  # p_uncond = 0.1
    assert set(seen[0].tolist()) == {0, 10}  # kept labels stay 0


def test_classifier_guidance_through_the_model_and_schedule_check():
    model = _model(cond=False).eval()
    clf = NoisyClassifier(NoisyClassifierConfig(base_channels=8, channel_mults=(1, 2), timesteps=50),
                          (1, 8, 8), 10).eval()
    labels = torch.tensor([3, 3])
    guided = model.sample(2, generator=torch.Generator().manual_seed(1), steps=5, labels=labels,
                          classifier=clf, classifier_scale=3.0)
    plain = model.sample(2, generator=torch.Generator().manual_seed(1), steps=5)
    assert not torch.equal(guided, plain)
    other = NoisyClassifier(NoisyClassifierConfig(base_channels=8, channel_mults=(1, 2), timesteps=40),
                            (1, 8, 8), 10)
    with pytest.raises(GenvisionError, match="noise schedule"):
        model.sample(2, labels=labels, classifier=other, classifier_scale=1.0, steps=5)


def test_learned_variance_hybrid_loss_trains_and_samples():
    torch.manual_seed(0)
    model = DiffusionModel(DDPMConfig(**TINY, learn_variance=True), (1, 8, 8), 10)
    data = load_dataset("digits", split="train")
    cfg = TrainConfig(steps=40, batch_size=32, lr=3e-3, warmup_steps=5, progress=False, val_every=0,
                      ckpt_every=0, log_every=10, device="cpu", bf16=False)
    trainer = Trainer(model, data, val_data=load_dataset("digits", split="val"), config=cfg)
    before = trainer.validate()
    after = trainer.fit()
    assert {"val/simple", "val/vlb_bpd"} <= set(after) and after["val/loss"] < before["val/loss"]
    x = model.sample(2, sampler="ddpm", generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, 1, 8, 8) and torch.isfinite(x).all()
    x0 = load_dataset("digits", split="val").float_images()[:2]
    assert torch.isfinite(model.nll(x0)).all()


def _perturbed(model):
    """The UNet's output layer starts at zero (eps = 0 for every input): nudge every weight so outputs differ."""
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return model


def test_classifier_guided_ddpm_with_vanishing_scale_equals_plain_ddpm_with_learned_variance():
    """ADM-G Alg. 1 uses the model's Σ_θ in μ + sΣ∇log p and in the noise: as s -> 0 it is plain DDPM."""
    torch.manual_seed(0)
    model = _perturbed(DiffusionModel(DDPMConfig(**TINY, learn_variance=True), (1, 8, 8), 10)).eval()
    clf = NoisyClassifier(NoisyClassifierConfig(base_channels=8, channel_mults=(1, 2), timesteps=50),
                          (1, 8, 8), 10).eval()
    labels = torch.tensor([3, 5])
    plain = model.sample(2, sampler="ddpm", generator=torch.Generator().manual_seed(1))
    guided = model.sample(2, sampler="ddpm", generator=torch.Generator().manual_seed(1), labels=labels,
                          classifier=clf, classifier_scale=1e-9)
    torch.testing.assert_close(guided, plain, rtol=0, atol=1e-5)


def test_label_dropout_only_while_training():
    """In eval mode (validation) the loss is the conditional one: no label is replaced by the null class."""
    model = _model(cond=True).eval()
    seen = []
    orig = model.unet.forward
    model.unet.forward = lambda x, t, labels=None: (seen.append(labels.clone()), orig(x, t, labels))[1]
    torch.manual_seed(0)
    model.loss({"image": torch.zeros(500, 1, 8, 8), "label": torch.full((500,), 4, dtype=torch.long)})
    assert torch.equal(seen[0], torch.full((500,), 4))


def test_min_snr_loss_weighting_is_an_option_of_the_model():
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    batch = {"image": x, "label": torch.tensor([0, 1, 2, 3])}
    for prediction in ("eps", "x0", "v"):
        torch.manual_seed(0)
        model = DiffusionModel(DDPMConfig(**TINY, class_conditional=True, prediction=prediction,
                                          loss_weighting="min_snr"), (1, 8, 8), 10)
        torch.manual_seed(1)
        out = model.loss(batch)
        assert set(out) == {"loss", "simple"} and torch.isfinite(out["loss"])
        out["loss"].backward()
    with pytest.raises(GenvisionError, match="loss_weighting"):
        DDPMConfig(**TINY, loss_weighting="snr")
    with pytest.raises(GenvisionError, match="min-snr-gamma"):
        DDPMConfig(**TINY, min_snr_gamma=0.0)


def test_training_timesteps_follow_the_configured_density():
    """logit_normal with a far mean puts every training t at the noisy end; uniform spreads them over 0..T-1;
    uniform_fraction 0.5 draws about half of them uniformly again."""
    seen = {}
    for scheme, mean, frac in (("uniform", 0.0, 0.0), ("logit_normal", 12.0, 0.0), ("logit_normal", -12.0, 0.0),
                               ("logit_normal", 12.0, 0.5)):
        model = DiffusionModel(DDPMConfig(**TINY, timestep_sampling=scheme, logit_mean=mean, uniform_fraction=frac),
                               (1, 8, 8))
        orig = model.unet.forward
        key = (scheme, mean, frac)
        model.unet.forward = lambda x, t, labels=None, orig=orig, key=key: (seen.__setitem__(key, t), orig(x, t))[1]
        torch.manual_seed(0)
        model.loss({"image": torch.zeros(400, 1, 8, 8)})
    T = TINY["timesteps"]
    assert torch.all(seen[("logit_normal", 12.0, 0.0)] == T - 1) and torch.all(seen[("logit_normal", -12.0, 0.0)] == 0)
    uniform = seen[("uniform", 0.0, 0.0)]
    assert uniform.min() < T // 10 and uniform.max() >= T - T // 10
    mixed = (seen[("logit_normal", 12.0, 0.5)] < T - 1).float().mean().item()  # 0.5 (1 - 1/T) +- 0.025 (1 s.e.)
    assert 0.4 < mixed < 0.6
    with pytest.raises(GenvisionError, match="timestep_sampling"):
        DDPMConfig(**TINY, timestep_sampling="lognormal")
    with pytest.raises(GenvisionError, match="uniform-fraction"):
        DDPMConfig(**TINY, uniform_fraction=1.5)
    with pytest.raises(GenvisionError, match="logit-std"):
        DDPMConfig(**TINY, logit_std=0.0)


def _record_unet_calls(model):
    """Replace model.unet.forward by a wrapper that records (input, t, output) of every call."""
    seen = []
    orig = model.unet.forward

    def forward(x, t, labels=None):
        out = orig(x, t, labels)
        seen.append((x.detach().clone(), t.clone(), out.detach().float().clone()))
        return out

    model.unet.forward = forward
    return seen


@pytest.mark.parametrize("prediction", ["v", "eps"])
def test_self_conditioning_trains_half_the_batch_on_its_own_stop_grad_x0(prediction):
    """Chen et al. 2022, Alg. 1: the UNet sees [x_t, x0_self]; about half the examples get x0_self from a first
    no-grad forward of the same x_t (that forward's x_0 estimate, clipped), the rest zeros."""
    model = DiffusionModel(DDPMConfig(**TINY, prediction=prediction, class_conditional=True, self_condition=True),
                           (1, 8, 8), num_classes=3)
    assert model.unet.encoder.stem.in_channels == 2
    with torch.no_grad():  # the zero-initialised output layer would stop every gradient at the first step
        for p in model.parameters():
            if not p.any():
                p.normal_(0, 0.05)
    seen = _record_unet_calls(model)
    batch = {"image": torch.rand(64, 1, 8, 8) * 2 - 1, "label": torch.randint(0, 3, (64,))}
    torch.manual_seed(0)
    model.loss(batch)["loss"].backward()
    assert model.unet.encoder.stem.weight.grad[:, 1].abs().sum() > 0  # the x0_self channel is trained
    (x_first, t_first, out_first), (x_second, t_second, _) = seen  # no-grad forward on the picked, then all
    picked = x_second[:, 1].flatten(1).abs().sum(1) > 0
    assert 16 < picked.sum() < 48 and x_first.shape[0] == picked.sum()
    assert torch.all(x_first[:, 1] == 0)  # the first forward has no estimate of its own
    torch.testing.assert_close(x_first[:, :1], x_second[picked, :1])  # the same x_t and t
    assert torch.equal(t_first, t_second[picked])
    x0_est = model_output_to_eps_x0(model.schedule, x_first[:, :1], t_first, out_first, prediction=prediction).x0
    torch.testing.assert_close(x_second[picked, 1:], x0_est.clamp(-1, 1))


def test_self_conditioned_chain_feeds_back_the_previous_x0_estimate():
    """Chen et al. 2022, Alg. 2: along a sampling chain the first call sees zeros, every later call the clipped
    x_0 estimate of the call before; `denoise` (used by the bound) always sees zeros."""
    model = DiffusionModel(DDPMConfig(**TINY, prediction="v", self_condition=True), (1, 8, 8)).eval()
    seen = _record_unet_calls(model)
    denoise = model.chain_denoiser()
    g = torch.Generator().manual_seed(0)
    x1, x2 = torch.randn(2, 1, 8, 8, generator=g), torch.randn(2, 1, 8, 8, generator=g)
    t1, t2 = torch.full((2,), 40), torch.full((2,), 30)
    with torch.no_grad():
        eps1 = denoise(x1, t1)
        denoise(x2, t2)
        model.denoise(x2, t2)
    assert torch.all(seen[0][0][:, 1] == 0) and torch.all(seen[2][0][:, 1] == 0)
    x0_1 = model.schedule.predict_x0_from_eps(x1, t1, eps1).clamp(-1, 1)
    torch.testing.assert_close(seen[1][0][:, 1:], x0_1, atol=1e-5, rtol=1e-4)
    samples = model.sample(3, steps=4, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (3, 1, 8, 8) and torch.isfinite(samples).all()
