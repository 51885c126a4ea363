"""Training options, independent of any model."""

from __future__ import annotations

from dataclasses import dataclass

from genvision.errors import GenvisionError


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 64  # global batch per optimiser step (over processes and accumulation micro-steps)
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    grad_accum: int = 1
    ema_decay: float = 0.999
    ema_warmup: int = 10  # decay = min(ema_decay, (1 + n) / (ema_warmup + n)); 0 disables the warm-up
    bf16: bool = True  # bf16 autocast (CPU with avx512_bf16 and CUDA); see benchmarks/bench_trainer.py
    seed: int = 0
    device: str = "auto"
    log_every: int = 50
    val_every: int = 500  # 0: only at the end
    val_batches: int = 8
    sample_every: int = 0  # 0: only at the end
    num_samples: int = 64
    ckpt_every: int = 500  # 0: only at the end
    keep_checkpoints: int = 3
    progress: bool = True
    tensorboard: bool = False

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "grad_accum"):
            if getattr(self, name) < 1:
                raise GenvisionError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise GenvisionError(f"lr must be > 0, got {self.lr}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise GenvisionError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
