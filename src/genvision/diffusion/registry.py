"""Registry entries of the diffusion family: `ddpm` (unconditional) and `cfg` (class-conditional)."""

from __future__ import annotations

from genvision.diffusion.model import DDPMConfig, DDPMSampleOptions, DiffusionModel
from genvision.diffusion.noisy_classifier import NoisyClassifier, NoisyClassifierConfig
from genvision.entry import ModelEntry, build_plain

_build = build_plain(DiffusionModel)


_TINY = {"base_channels": 8, "channel_mults": "1,2", "num_res_blocks": 1, "attention_resolutions": "4",
         "timesteps": 50, "steps": 30, "batch_size": 16, "val_every": 0, "ckpt_every": 0, "log_every": 10,
         "num_samples": 4, "data": "digits"}
# The mnist preset: chosen by measurement on 2 CPU cores (see README, benchmarks/bench_ddpm.py).
_MNIST = {"base_channels": 32, "channel_mults": "1,2,2", "num_res_blocks": 1, "attention_resolutions": "7",
          "timesteps": 1000, "schedule": "cosine", "steps": 4000, "batch_size": 64, "lr": 1e-3,
          "warmup_steps": 200, "ema_decay": 0.999, "ema_warmup": 10, "val_every": 1000, "ckpt_every": 500,
          "sample_every": 2000, "num_samples": 64}
# `make demo`: the mnist UNet with the recipe measured best at a 4-minute quiet 2-core budget (docs/diffusion.md,
# 14-14e): v-prediction, lr 2e-3 with cosine decay to 0 (94.2% mean of three runs vs 93.3% of four to 0.1x); the
# training t drawn 80% logit-normal (m = 1, s = 1), 20% uniform (95.0-95.5% in five runs against 91.8-94.7% for
# uniform t, no salt); and self-conditioning (Chen et al. 2022; 96.0% and 96.6% at 650 steps). 650 steps of 1.21x
# the plain step (2-thread wall, benchmarks/bench_demo_recipes.py --wall) = 787 plain steps, under the 880 that
# filled the 4 minutes on quiet cores (0.254 s a step, bf16). Validation and the checkpoint only at the end.
_DEMO = {**_MNIST, "steps": 650, "lr": 2e-3, "min_lr_ratio": 0.0, "prediction": "v", "warmup_steps": 100,
         "timestep_sampling": "logit_normal", "logit_mean": 1.0, "logit_std": 1.0, "uniform_fraction": 0.2,
         "self_condition": True, "val_every": 0, "sample_every": 0, "ckpt_every": 0}
# ddpm's demo preset: the same 4-minute budget, but the unconditional model measured best with the mnist recipe
# (eps, lr 1e-3): FD 15.2 against 19.7 (eps, lr 2e-3) and 22.0 (v, lr 2e-3) at 930 steps (docs/diffusion.md, 14c).
_DDPM_DEMO = {**_MNIST, "steps": 880, "warmup_steps": 100, "val_every": 0, "sample_every": 0, "ckpt_every": 0}
# cfg's mnist preset: the demo's v-prediction and lr 2e-3 (cosine to 0.1x, as measured) for the 20-minute budget
# of issue 14, 4400 steps x ~0.26 s (bf16, 2 quiet cores); measured side by side with the peer in
# benchmarks/bench_peer_diffusers.py.
# ddpm's mnist preset keeps eps and lr 1e-3, measured best for the unconditional model at the demo budget (14c).
_CFG_MNIST = {**_MNIST, "class_conditional": True, "steps": 4400, "lr": 2e-3, "prediction": "v"}
# The DDPM paper's CIFAR-10 model (Ho et al. 2020, App. B): for GPUs.
_CIFAR = {"base_channels": 128, "channel_mults": "1,2,2,2", "num_res_blocks": 2, "attention_resolutions": "16",
          "dropout": 0.1, "schedule": "linear", "timesteps": 1000, "steps": 800_000, "batch_size": 128,
          "lr": 2e-4, "warmup_steps": 5000, "ema_decay": 0.9999, "data": "cifar10", "grad_clip": 1.0}
_GUIDED_BY = {"classifier": "noisy-classifier"}  # sample(classifier=...) takes a loaded noisy classifier

ENTRIES = [
    ModelEntry("ddpm", "unconditional DDPM (UNet denoiser, L_simple, DDPM/DDIM samplers)", DDPMConfig, _build,
               presets={"tiny": _TINY, "mnist": _MNIST, "demo": _DDPM_DEMO, "cifar": _CIFAR},
               default_preset="mnist",
               sample_options=DDPMSampleOptions, sample_requires=_GUIDED_BY, figures=("filmstrip",)),
    ModelEntry("cfg", "class-conditional DDPM with label dropout for classifier-free guidance", DDPMConfig,
               _build, presets={"tiny": {**_TINY, "class_conditional": True},
                                "mnist": _CFG_MNIST,
                                "demo": {**_DEMO, "class_conditional": True},
                                "cifar": {**_CIFAR, "class_conditional": True}},
               default_preset="mnist", sample_options=DDPMSampleOptions,
               sample_requires=_GUIDED_BY, figures=("cfg-grid", "cfg-tradeoff", "filmstrip")),
    ModelEntry("noisy-classifier", "noise-aware classifier p(y | x_t, t) for classifier guidance (ADM-G)",
               NoisyClassifierConfig, build_plain(NoisyClassifier),
               presets={"tiny": {"base_channels": 8, "channel_mults": "1,2", "timesteps": 50, "steps": 30,
                                 "batch_size": 16, "val_every": 0, "ckpt_every": 0, "log_every": 10,
                                 "data": "digits"},
                        "mnist": {"steps": 2000, "batch_size": 128, "lr": 2e-3, "warmup_steps": 100,
                                  "ema_decay": 0.999, "val_every": 500, "ckpt_every": 500}},
               default_preset="mnist", figures=("accuracy-by-t", "classifier-guidance")),
]
