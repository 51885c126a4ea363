"""A diffusion model: the UNet denoiser plus a noise schedule, trained with L_simple (Ho et al. 2020)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from genvision.config import check_ranges, option
from genvision.device import autocast_context
from genvision.diffusion.guidance import (
    check_classifier_scale,
    check_one_convention,
    classifier_free_eps,
    classifier_guided_eps,
    classifier_log_prob_grad,
    classifier_mean_shift,
)
from genvision.diffusion.guidance import guidance_weight as cfg_weight
from genvision.diffusion.losses import (
    LOSS_WEIGHTINGS,
    TIMESTEP_SAMPLINGS,
    hybrid_loss,
    learned_range_log_variance,
    min_snr_weight,
    sample_training_timesteps,
    simple_loss,
)
from genvision.diffusion.parameterization import PREDICTIONS, EpsX0, model_output_to_eps_x0, training_target
from genvision.diffusion.samplers import ddim_sample, ddpm_sample
from genvision.diffusion.schedule import NoiseSchedule
from genvision.diffusion.timesteps import DEFAULT_SPACING
from genvision.diffusion.unet import UNet, UNetConfig
from genvision.errors import GenvisionError
from genvision.nn.classifier_free import drop_labels


@dataclass(frozen=True)
class DDPMConfig:
    # denoiser (see UNetConfig)
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (7,)
    attention_heads: int = option(1, min=1)  # must divide the channels at each attention resolution
    dropout: float = option(0.0, min=0, lt=1)
    patch_size: int = option(1, min=1)  # space-to-depth before the UNet (UNetConfig.patch_size); must divide H
    # diffusion
    schedule: str = "cosine"
    timesteps: int = option(1000, min=2)
    prediction: str = "eps"  # eps | x0 | v
    loss_weighting: str = "none"  # none (L_simple) | min_snr (Hang et al. 2023; docs/diffusion.md, 7b)
    min_snr_gamma: float = option(5.0, gt=0)
    timestep_sampling: str = "uniform"  # uniform | logit_normal (Esser et al. 2024, Sec. 3.1; docs/diffusion.md, 7c)
    logit_mean: float = 0.0  # logit_normal: u = sigmoid(logit_mean + logit_std n), t = floor(u T)
    logit_std: float = option(1.0, gt=0)
    uniform_fraction: float = option(0.0, min=0, max=1)  # logit_normal: this fraction of t drawn uniformly instead
    # self-conditioning (Chen et al. 2022, "Analog Bits", Sec. 3.2): the UNet also sees its own previous x_0
    # estimate; in training half the examples get one from an extra no-grad forward, the rest zeros
    self_condition: bool = False
    learn_variance: bool = False  # L_hybrid with a learned Σ (Nichol & Dhariwal 2021); DDPM sampling uses it
    class_conditional: bool = False
    p_uncond: float = 0.1  # label dropout to the null class (Ho & Salimans 2022, Table 1)

    def __post_init__(self) -> None:
        check_ranges(self, checks=False)  # held to the option ranges when built in code, too
        if self.prediction not in PREDICTIONS:
            raise GenvisionError(f"prediction must be one of {PREDICTIONS}, got {self.prediction!r}")
        if self.loss_weighting not in LOSS_WEIGHTINGS:
            raise GenvisionError(f"loss_weighting must be one of {LOSS_WEIGHTINGS}, got {self.loss_weighting!r}")
        if self.timestep_sampling not in TIMESTEP_SAMPLINGS:
            raise GenvisionError(f"timestep_sampling must be one of {TIMESTEP_SAMPLINGS}, "
                                 f"got {self.timestep_sampling!r}")
        if self.schedule not in ("linear", "cosine"):
            raise GenvisionError(f"schedule must be linear or cosine, got {self.schedule!r}")
        if not 0.0 <= self.p_uncond < 1.0:
            raise GenvisionError(f"p_uncond must be in [0, 1), got {self.p_uncond}")

    def unet(self) -> UNetConfig:
        return UNetConfig(base_channels=self.base_channels, channel_mults=self.channel_mults,
                          num_res_blocks=self.num_res_blocks, attention_resolutions=self.attention_resolutions,
                          attention_heads=self.attention_heads, dropout=self.dropout,
                          patch_size=self.patch_size)


@dataclass(frozen=True)
class DDPMSampleOptions:
    sampler: Literal["ddim", "ddpm"] = "ddim"
    # DDIM: 50 by default; DDPM: all T, fewer respaces the chain (Nichol & Dhariwal 2021, Sec. 4)
    steps: int | None = option(None, min=1)
    spacing: Literal["leading", "trailing", "linspace"] = DEFAULT_SPACING  # Lin et al. 2024, Table 2
    # DDIM's η (Song et al. Eq. 16). 1: stochastic, the 50-step respaced DDPM chain with β̃ (Nichol & Dhariwal
    # Sec. 4); η = 0 carries x_T's outliers into the image as salt (docs/diffusion.md, Sec. 11).
    eta: float = option(1.0, min=0, max=1)
    variance: Literal["beta", "beta_tilde"] = "beta_tilde"  # DDPM only
    clip_x0: bool = True
    guidance_weight: float | None = None  # CFG, paper convention (w)
    guidance_scale: float | None = None  # CFG, diffusers convention (s = 1 + w)
    guidance_lambda: float | None = None  # CFG, lecture convention (lam = 1 + w; > 1 is guidance)
    classifier: str = ""  # noisy-classifier run or checkpoint, for classifier guidance
    classifier_scale: float = 0.0  # ADM-G scale s
    # the network in bf16 autocast (the sampler stays fp32): 2.6x the images/s of CFG sampling on 2 CPU cores, same
    # FD (docs/diffusion.md, Sec. 15); --bf16=false for fp32. DiffusionModel.sample itself defaults to fp32.
    bf16: bool = True
    progress: bool = False

    def __post_init__(self) -> None:
        check_one_convention(weight=self.guidance_weight, scale=self.guidance_scale, lam=self.guidance_lambda)
        check_classifier_scale(self.classifier, self.classifier_scale)
        if self.classifier and self.classifier_scale == 0.0:  # as an option, a classifier at s = 0 is a mistake
            raise GenvisionError("--classifier needs --classifier-scale=S with S != 0 (e.g. 1 to 10); at 0 the "
                                 "classifier would be loaded and ignored")


class DiffusionModel(nn.Module):
    """x0: (B, C, H, W) in [-1, 1]. Optional class conditioning with a null label for CFG."""

    def __init__(self, cfg: DDPMConfig, image_shape: tuple[int, int, int], num_classes: int = 0) -> None:
        super().__init__()
        self.cfg = cfg
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes if cfg.class_conditional else 0
        c, h, _ = image_shape
        self.unet = UNet(2 * c if cfg.self_condition else c, h, cfg.unet(), num_classes=self.num_classes,
                         out_channels=2 * c if cfg.learn_variance else c)
        self.schedule = NoiseSchedule.from_name(cfg.schedule, cfg.timesteps)

    @property
    def null_label(self) -> int:
        return self.num_classes

    def _forward(self, x_t: Tensor, t: Tensor, labels: Tensor | None,
                 x0_self: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(mean part, variance part v_raw in [-1, 1] or None) of the network output. x0_self: the previous
        x_0 estimate (B, C, H, W) a self-conditioned model sees beside x_t (zeros when None); ignored otherwise."""
        if self.cfg.self_condition:
            x_t = torch.cat([x_t, torch.zeros_like(x_t) if x0_self is None else x0_self.to(x_t.dtype)], dim=1)
        out = self.unet(x_t, t, labels).float()
        if not self.cfg.learn_variance:
            return out, None
        mean_part, v_raw = out.chunk(2, dim=1)
        return mean_part, v_raw.tanh()

    def _predict(self, x_t: Tensor, t: Tensor, labels: Tensor | None, x0_self: Tensor | None = None) -> EpsX0:
        """ε and x_0 implied by the network's output, whatever its parameterisation."""
        out, _ = self._forward(x_t, t, labels, x0_self)
        return model_output_to_eps_x0(self.schedule, x_t, t, out, prediction=self.cfg.prediction)

    def denoise(self, x_t: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
        """eps prediction, whatever the network's parameterisation. x_t: (B, C, H, W), t: (B,) int64.
        A self-conditioned model gets no previous estimate here (zeros): see `chain_denoiser`."""
        return self._predict(x_t, t, labels).eps

    def chain_denoiser(self):
        """A denoiser for one sampling chain, called once per step: a self-conditioned model is fed the x_0
        estimate (clipped to [-1, 1]) of the previous call (Chen et al. 2022, Alg. 2); other models: `denoise`."""
        if not self.cfg.self_condition:
            return self.denoise
        state: dict[str, Tensor] = {}

        def denoise(x_t: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
            pred = self._predict(x_t, t, labels, state.get("x0"))
            state["x0"] = pred.x0.clamp(-1, 1)
            return pred.eps

        return denoise

    def log_variance_fn(self, labels: Tensor | None):
        """The learned log Σ_θ(x_t, t) (Eq. 15, Nichol & Dhariwal), or None with the fixed variance.
        It costs one extra (conditional) forward per step: the guided mean and the variance are separate."""
        if not self.cfg.learn_variance:
            return None
        cond = labels if self.num_classes > 0 else None
        return lambda x, t: learned_range_log_variance(self.schedule, t, self._forward(x, t, cond)[1])

    def learned_range_fn(self, labels: Tensor | None):
        """The learned variance as v_raw(x_t, t) in [-1, 1], for a sampler to interpolate between its own
        chain's log β̃ and log β (a respaced chain has other betas); None with the fixed variance."""
        if not self.cfg.learn_variance:
            return None
        cond = labels if self.num_classes > 0 else None
        return lambda x, t: self._forward(x, t, cond)[1]

    def loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        x0 = batch["image"]
        b = x0.shape[0]
        t = sample_training_timesteps(self.schedule.num_timesteps, b, scheme=self.cfg.timestep_sampling,
                                      logit_mean=self.cfg.logit_mean, logit_std=self.cfg.logit_std,
                                      uniform_fraction=self.cfg.uniform_fraction, device=x0.device)
        noise = torch.randn_like(x0)
        x_t = self.schedule.q_sample(x0, t, noise)  # Eq. 4
        labels = None
        if self.num_classes > 0:  # label dropout trains the null class; validation scores p(x | y) as is
            labels = batch["label"]
            if self.training:
                labels = drop_labels(labels, self.cfg.p_uncond, self.null_label)
        x0_self = None
        if self.cfg.self_condition:  # Chen et al. 2022, Alg. 1, per example: half see their own stop-grad x_0
            x0_self = torch.zeros_like(x0)
            pick = torch.rand(b, device=x0.device) < 0.5
            if pick.any():
                with torch.no_grad():
                    est = self._predict(x_t[pick], t[pick], labels[pick] if labels is not None else None).x0
                x0_self[pick] = est.clamp(-1, 1).to(x0_self.dtype)
        out, v_raw = self._forward(x_t, t, labels, x0_self)
        weight = None
        if self.cfg.loss_weighting == "min_snr":
            weight = min_snr_weight(self.schedule, t, prediction=self.cfg.prediction, gamma=self.cfg.min_snr_gamma)
        if v_raw is not None:  # L_hybrid = L_simple + λ L_vlb (Nichol & Dhariwal 2021, Eq. 16)
            hybrid = hybrid_loss(self.schedule, x0, x_t, t, noise, model_output=out, v_raw=v_raw,
                                 prediction=self.cfg.prediction, simple_weight=weight)
            return {"loss": hybrid.loss.mean(), "simple": hybrid.simple.mean(), "vlb_bpd": hybrid.vlb.mean()}
        target = training_target(self.schedule, x0, noise, t, prediction=self.cfg.prediction)
        simple = simple_loss(out, target)  # L_simple, Eq. 14, per example
        if weight is None:
            return {"loss": simple.mean()}
        return {"loss": (weight * simple).mean(), "simple": simple.mean()}  # "simple" compares across weightings

    def eps_fn(self, labels: Tensor | None, *, weight: float = 0.0, chain: bool = False):
        """The eps-function a sampler calls: conditional, guided or unconditional. chain: the function is called
        once per step of one sampling chain, so a self-conditioned model may feed back its last x_0 estimate."""
        denoise = self.chain_denoiser() if chain else self.denoise
        if labels is None or self.num_classes == 0:
            if labels is not None:
                raise GenvisionError("labels were given but this model is not class-conditional")
            if weight != 0.0:
                raise GenvisionError("classifier-free guidance needs a class-conditional model")
            return lambda x, t: denoise(x, t, None)
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise GenvisionError(f"labels must be in 0..{self.num_classes - 1}")
        return classifier_free_eps(denoise, labels, null_label=self.null_label, weight=weight)

    @torch.no_grad()
    def nll(self, x0: Tensor, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
            timesteps_per_call: int = 10) -> Tensor:
        """Upper bound on -log p(x0) in nats per image: the full variational bound (Ho et al. 2020, Eq. 5)
        over all T terms with the discretised decoder; variance beta-tilde, or the learned one. x0: (B, C, H, W)."""
        import math

        from genvision.diffusion.likelihood import variational_bound

        x0 = x0.to(next(self.parameters()).device)
        fn = self.eps_fn(labels if self.num_classes > 0 else None)
        vlb = variational_bound(fn, self.schedule, x0, generator=generator, timesteps_per_call=timesteps_per_call,
                                log_variance_fn=self.log_variance_fn(labels))
        return vlb.total_bpd * x0[0].numel() * math.log(2.0)

    @torch.no_grad()
    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               sampler: str = "ddim", steps: int | None = None, spacing: str = DEFAULT_SPACING, eta: float = 1.0,
               variance: str = "beta_tilde",
               clip_x0: bool = True, guidance_weight: float | None = None, guidance_scale: float | None = None,
               guidance_lambda: float | None = None, classifier: str | nn.Module = "",
               classifier_scale: float = 0.0, bf16: bool = False, progress: bool = False,
               callback=None) -> Tensor:
        """(n, C, H, W) in [-1, 1].

        labels: (n,) int64. A class-conditional model is conditioned on them (and guided by the CFG
        weight, in any one of its three conventions); a noise-aware `classifier` module
        with `classifier_scale` s != 0 guides towards them, for unconditional and conditional models.
        steps: DDIM steps (default 50), or the DDPM chain respaced to that many (default all T), placed by
        `spacing` (genvision.diffusion.timesteps). eta: DDIM's η, 1 by default (stochastic; 0 leaves salt).
        bf16: run the network(s) under bf16 autocast (CPU with avx512_bf16, CUDA): about 2x faster on CPU.
        """
        w = cfg_weight(weight=guidance_weight, scale=guidance_scale, lam=guidance_lambda)
        check_classifier_scale(classifier, classifier_scale)
        has_classifier = isinstance(classifier, nn.Module) or bool(classifier)
        if labels is not None and self.num_classes == 0 and not has_classifier:
            raise GenvisionError("labels were given but this model is not class-conditional "
                                 "(use a noisy classifier with classifier_scale for classifier guidance)")
        if has_classifier and labels is None:
            raise GenvisionError("classifier guidance needs labels")
        if labels is not None and len(labels) != n:
            raise GenvisionError(f"got {len(labels)} labels for {n} samples")
        fn = self.eps_fn(labels if self.num_classes > 0 else None, weight=w, chain=True)
        device = next(self.parameters()).device
        shape = (n, *self.image_shape)
        if sampler not in ("ddim", "ddpm"):
            raise GenvisionError(f"unknown sampler {sampler!r}; use ddim or ddpm")
        with autocast_context(device, bf16):  # the networks in bf16; the sampler's arithmetic stays fp32
            if has_classifier and classifier_scale != 0.0:
                grad_fn = classifier_log_prob_grad(self._noise_aware_classifier(classifier, device), labels)
                if sampler == "ddpm":  # ADM-G Algorithm 1: shift the mean
                    return ddpm_sample(fn, self.schedule, shape, steps=steps, spacing=spacing, variance=variance,
                                       clip_x0=clip_x0, generator=generator, progress=progress, callback=callback,
                                       device=device, learned_range_fn=self.learned_range_fn(labels),
                                       transition_hook=classifier_mean_shift(grad_fn, scale=classifier_scale))
                fn = classifier_guided_eps(fn, grad_fn, self.schedule, scale=classifier_scale)  # Algorithm 2
            if sampler == "ddim":
                return ddim_sample(fn, self.schedule, shape, steps=steps, spacing=spacing, eta=eta, clip_x0=clip_x0,
                                   generator=generator, progress=progress, callback=callback, device=device)
            return ddpm_sample(fn, self.schedule, shape, steps=steps, spacing=spacing, variance=variance,
                               clip_x0=clip_x0, generator=generator, progress=progress, callback=callback,
                               device=device, learned_range_fn=self.learned_range_fn(labels))

    def _noise_aware_classifier(self, classifier: str | nn.Module, device) -> nn.Module:
        if not isinstance(classifier, nn.Module):  # a model gets modules, never paths: the caller loads it
            raise GenvisionError(f"classifier guidance needs a loaded noisy classifier, got {classifier!r} "
                                 "(genvision.loading.load_model loads a run)")
        sched = classifier.schedule
        if sched.num_timesteps != self.schedule.num_timesteps or not torch.allclose(
                sched.alphas_cumprod, self.schedule.alphas_cumprod):
            raise GenvisionError("the noisy classifier was trained with another noise schedule than this model")
        return classifier.to(device).eval()
