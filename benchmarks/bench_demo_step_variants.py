"""Two ways to run the demo network's training step that did not pay (docs/diffusion.md 14f), against today's step,
interleaved in one process (2-thread wall clock): the model and its input in channels_last, and GroupNorm run on the
bf16 activations instead of autocast's fp32 copy. Also prints the host's matmul GFLOP/s (fp32, bf16): on a slow day
the arithmetic can be fast while the step is slow.

    python benchmarks/bench_demo_step_variants.py [--rounds 15] [--self-condition]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from bench_demo_recipes import make_trainer  # noqa: E402
from common import interleaved, print_table  # noqa: E402
from genvision.data import load_dataset  # noqa: E402


def matmul_gflops(dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(2):
        a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


class Bf16GroupNorm(torch.nn.GroupNorm):
    """GroupNorm on bf16 activations as they come (CPU kernels accumulate in fp32), skipping autocast's fp32 cast."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.bfloat16:
            with torch.autocast("cpu", enabled=False):
                return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
        return super().forward(x)


def channels_last(trainer) -> None:
    trainer.model.to(memory_format=torch.channels_last)
    trainer.ema.model.to(memory_format=torch.channels_last)
    unet_forward = trainer.model.unet.forward
    trainer.model.unet.forward = lambda x, t, labels=None: unet_forward(
        x.contiguous(memory_format=torch.channels_last), t, labels)


def bf16_group_norm(trainer) -> None:
    for m in trainer.model.modules():
        if type(m) is torch.nn.GroupNorm:
            m.__class__ = Bf16GroupNorm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--self-condition", action="store_true", help="the demo preset as shipped (default: plain)")
    args = ap.parse_args()
    print(f"matmul 2048^2: fp32 {matmul_gflops(torch.float32):.0f} GFLOP/s, "
          f"bf16 {matmul_gflops(torch.bfloat16):.0f} GFLOP/s", flush=True)
    data = load_dataset("mnist5k", split="train")
    variants = {"today": None, "channels_last": channels_last, "bf16_group_norm": bf16_group_norm}
    trainers = {}
    for name, change in variants.items():
        trainers[name] = make_trainer({"self_condition": args.self_condition}, data)
        if change is not None:
            change(trainers[name])
    t = interleaved({k: tr.train_step for k, tr in trainers.items()}, rounds=args.rounds, warmup=3)
    print_table(f"demo training step, batch 64, bf16 (wall, {torch.get_num_threads()} threads, median of "
                f"{args.rounds} interleaved rounds)",
                [{"variant": k, "s_per_step": v, "x_today": v / t["today"]} for k, v in t.items()])


if __name__ == "__main__":
    main()
