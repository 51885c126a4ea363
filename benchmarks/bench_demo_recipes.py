"""Step time of candidate `cfg` demo recipes relative to today's demo model, interleaved in one process, and the
number of steps each gets in a fixed quiet-machine training budget (docs/diffusion.md, "A recipe for the demo"),
with each step's forward + backward GFLOP per image (torch.utils.flop_counter).

By default each step is timed in CPU time on one thread (time.process_time): other jobs on a shared machine do not
count, where wall-clock ratios under contention were off by 2x here (batch 32 and batch 128 "cost the same").
--wall times 2-thread wall clock instead, for a quiet machine. The absolute figure is the reference's quiet step
time (--ref-seconds, 0.254 s at batch 64 with bf16 on 2 quiet cores, measured 2026-12-05) times the ratio; this
assumes every candidate gains alike from the second thread.

    python benchmarks/bench_demo_recipes.py [--candidates ref,w48-12,w64-12] [--rounds 5] [--budget 240]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.data import load_dataset  # noqa: E402
from genvision.models import get_entry, make_run_spec  # noqa: E402
from genvision.train.config import TrainConfig  # noqa: E402
from genvision.train.trainer import Trainer  # noqa: E402

# Overrides of the step-time-relevant options (architecture, batch, self-conditioning) on today's demo preset
# (32 x "1,2,2", one ResBlock per level, attention at 7x7, batch 64; BASE below turns its self-conditioning off).
# Loss, LR, EMA and where t falls do not change the step time (ref-uniform-t measures the last).
CANDIDATES: dict[str, dict[str, object]] = {
    "ref": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 64},
    "ref-b32": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 32},
    "ref-b128": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 128},
    "w48-122": {"base_channels": 48, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 64},
    "w32-12": {"base_channels": 32, "channel_mults": "1,2", "attention_resolutions": "", "batch_size": 64},
    "w48-12": {"base_channels": 48, "channel_mults": "1,2", "attention_resolutions": "", "batch_size": 64},
    "w64-12": {"base_channels": 64, "channel_mults": "1,2", "attention_resolutions": "", "batch_size": 64},
    "w32-24": {"base_channels": 32, "channel_mults": "2,4", "attention_resolutions": "", "batch_size": 64},
    "w32-124": {"base_channels": 32, "channel_mults": "1,2,4", "attention_resolutions": "7", "batch_size": 64},
    "w32-122-noattn": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "", "batch_size": 64},
    "ref-attn14": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "7,14", "batch_size": 64},
    # the demo preset before 14e: the same network, uniform t instead of the logit-normal / uniform mixture
    "ref-uniform-t": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 64,
                      "timestep_sampling": "uniform"},
    # self-conditioning (Chen et al. 2022): one extra no-grad forward on half the batch, 2 input channels; with the
    # preset's other options this is today's demo preset (14e)
    "ref-selfcond": {"base_channels": 32, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 64,
                     "self_condition": True},
    "w24-122": {"base_channels": 24, "channel_mults": "1,2,2", "attention_resolutions": "7", "batch_size": 64},
    # patch_size 2: the UNet runs on the 14x14 space-to-depth map (4 channels), so "1,2" means levels 14 and 7
    "p2-w48-12": {"patch_size": 2, "base_channels": 48, "channel_mults": "1,2", "attention_resolutions": "7",
                  "batch_size": 64},
    "p2-w64-12": {"patch_size": 2, "base_channels": 64, "channel_mults": "1,2", "attention_resolutions": "7",
                  "batch_size": 64},
    "p2-w96-12": {"patch_size": 2, "base_channels": 96, "channel_mults": "1,2", "attention_resolutions": "7",
                  "batch_size": 64},
    "p2-w64-122": {"patch_size": 2, "base_channels": 64, "channel_mults": "1,2,2", "attention_resolutions": "7",
                   "batch_size": 64},
}


# `ref` is the demo network without self-conditioning (the 14c-14d preset, whose quiet step --ref-seconds is);
# a candidate turns self-conditioning on itself (ref-selfcond: today's demo preset)
BASE = {"self_condition": False}


def make_trainer(overrides: dict[str, object], data) -> Trainer:
    spec = make_run_spec("cfg", preset="demo", overrides={k: str(v) for k, v in {**BASE, **overrides}.items()})
    torch.manual_seed(0)
    model = get_entry("cfg").make(spec.model_config, data.image_shape, data.num_classes, data=spec.data)
    cfg = TrainConfig(steps=10**9, batch_size=spec.train.batch_size, bf16=spec.train.bf16, progress=False,
                      val_every=0, ckpt_every=0, device="cpu")
    return Trainer(model, data, config=cfg, batch_transform=spec.data.batch_transform())


def cpu_time_interleaved(fns, *, rounds: int) -> dict[str, float]:
    """Median CPU seconds per call of each fn on one thread, run A B C A B C ... after one warm-up round."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for fn in fns.values():
            fn()
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(rounds):
            for k, fn in fns.items():
                t0 = time.process_time()
                fn()
                times[k].append(time.process_time() - t0)
    finally:
        torch.set_num_threads(threads)
    return {k: statistics.median(v) for k, v in times.items()}


def gflop_per_image(trainer: Trainer) -> float:
    """Forward + backward GFLOP of one training step per image (torch.utils.flop_counter: convolutions and
    matmuls; norms, activations and the optimiser are not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        trainer.train_step()
    return counter.get_total_flops() / trainer.config.batch_size / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=240.0, help="quiet training seconds to fill")
    ap.add_argument("--wall", action="store_true", help="2-thread wall clock (quiet machine only)")
    ap.add_argument("--ref-seconds", type=float, default=0.254, help="quiet s/step of `ref` (make demo, 2026-12-05)")
    args = ap.parse_args()
    names = args.candidates.split(",")
    if "ref" not in names:
        names.insert(0, "ref")
    data = load_dataset("mnist5k", split="train")
    trainers = {k: make_trainer(CANDIDATES[k], data) for k in names}
    fns = {k: tr.train_step for k, tr in trainers.items()}
    t = interleaved(fns, rounds=args.rounds) if args.wall else cpu_time_interleaved(fns, rounds=args.rounds)
    rows = []
    for k, v in t.items():
        quiet = args.ref_seconds * v / t["ref"]
        rows.append({"candidate": k, "params_M": sum(p.numel() for p in trainers[k].model.parameters()) / 1e6,
                     "batch": trainers[k].config.batch_size, "gflop_per_image": gflop_per_image(trainers[k]),
                     "s_per_step_measured": v, "x_ref": v / t["ref"],
                     "quiet_s_per_step": quiet, "steps_in_budget": int(args.budget / quiet)})
    how = f"wall, {torch.get_num_threads()} threads" if args.wall else "CPU time, 1 thread"
    print_table(f"cfg demo candidates, step time ({how}, median of {args.rounds} rounds)", rows)


if __name__ == "__main__":
    main()
