"""Training options, independent of any model."""

from __future__ import annotations

from dataclasses import dataclass

from genvision.config import check_ranges, option
from genvision.device import check_device


@dataclass(frozen=True)
class TrainConfig:
    """Each field's accepted range sits next to its type (config.option); `__post_init__` checks them, so a
    TrainConfig built in code is held to the same ranges as one filled from the command line or a run's JSON."""

    steps: int = option(2000, min=1)
    batch_size: int = option(64, min=1)  # global batch per optimiser step (over processes and micro-steps)
    lr: float = option(1e-3, gt=0)
    weight_decay: float = option(0.0, min=0)
    adam_beta1: float = option(0.9, min=0, lt=1)  # AdamW's β1, β2 (the names of diffusers' training scripts)
    adam_beta2: float = option(0.999, min=0, lt=1)
    warmup_steps: int = option(100, min=0)
    min_lr_ratio: float = option(0.1, min=0, max=1)  # cosine decays to lr * min_lr_ratio
    grad_clip: float = option(1.0, min=0)  # max global grad norm; 0 disables
    grad_accum: int = option(1, min=1)
    ema_decay: float = option(0.999, min=0, lt=1)
    ema_warmup: int = option(10, min=0)  # decay = min(ema_decay, (1 + n) / (ema_warmup + n)); 0: no warm-up
    bf16: bool = True  # bf16 autocast (CPU with avx512_bf16 and CUDA); see benchmarks/bench_trainer.py
    seed: int = 0
    device: str = option("auto", check=check_device)
    log_every: int = option(50, min=1)
    val_every: int = option(500, min=0)  # 0: only at the end
    val_batches: int = option(8, min=1)
    sample_every: int = option(0, min=0)  # 0: only at the end
    num_samples: int = option(64, min=0)  # 0: no sample grids
    ckpt_every: int = option(500, min=0)  # 0: only at the end
    keep_checkpoints: int = option(3, min=0)  # 0: keep all
    progress: bool = True
    tensorboard: bool = False

    def __post_init__(self) -> None:
        check_ranges(self, checks=False)  # the device is checked where it is used (train/distributed.py)
