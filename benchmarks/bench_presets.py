"""Step time of each `mnist` preset, measured interleaved in one process, and the training time it implies.
Run it on a quiet machine: under contention from other processes the ratios were off by 3.6x here.

    python benchmarks/bench_presets.py [--models ddpm,pixelcnn,noisy-classifier] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.data import load_dataset  # noqa: E402
from genvision.models import get_entry, make_run_spec  # noqa: E402
from genvision.train.config import TrainConfig  # noqa: E402
from genvision.train.trainer import Trainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="ddpm,pixelcnn,noisy-classifier,eval-classifier")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    data = load_dataset("mnist5k", split="train")
    trainers, steps = {}, {}
    for name in args.models.split(","):
        spec = make_run_spec(name, preset="mnist")
        torch.manual_seed(0)
        model = get_entry(name).make(spec.model_config, data.image_shape, data.num_classes, data=spec.data)
        cfg = TrainConfig(steps=10**9, batch_size=spec.train.batch_size, bf16=spec.train.bf16, progress=False,
                          val_every=0, ckpt_every=0, device="cpu")
        trainers[name] = Trainer(model, data, config=cfg, batch_transform=spec.data.batch_transform())
        steps[name] = spec.train.steps
    t = interleaved({k: tr.train_step for k, tr in trainers.items()}, rounds=args.rounds)
    base = t.get("ddpm", next(iter(t.values())))
    rows = [{"preset": f"{k}/mnist", "batch": trainers[k].config.batch_size, "s_per_step": v,
             "x_ddpm_step": v / base, "steps": steps[k], "train_minutes": v * steps[k] / 60}
            for k, v in t.items()]
    print_table(f"preset step times ({torch.get_num_threads()} threads)", rows)


if __name__ == "__main__":
    main()
