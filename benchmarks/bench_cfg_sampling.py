"""CFG sampling throughput (issue 14 target: >= 5 images/s, DDIM-50, batch 100, 2 CPU cores): the shipped
`pretrained:cfg-mnist` (or any cfg run) at w = 0 (one forward per step) and w > 0 (cond + uncond in one batched
forward), fp32 against bf16 autocast (`--bf16`, the sampling default), interleaved so both see the same machine.

    python benchmarks/bench_cfg_sampling.py [--target pretrained:cfg-mnist] [--batch 100] [--steps 50] [--rounds 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.loading import load_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="pretrained:cfg-mnist")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--weights", default="0,1")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    model, _ = load_model(args.target)
    labels = torch.arange(args.batch) % 10

    def draw(w: float, bf16: bool):
        return lambda: model.sample(args.batch, labels=labels, generator=torch.Generator().manual_seed(0),
                                    steps=args.steps, guidance_weight=w, bf16=bf16)

    fns = {(w, bf16): draw(w, bf16) for w in (float(v) for v in args.weights.split(",")) for bf16 in (False, True)}
    seconds = interleaved({str(k): f for k, f in fns.items()}, rounds=args.rounds, warmup=0)
    rows = []
    for (w, bf16) in fns:
        s = seconds[str((w, bf16))]
        rows.append({"w": w, "network": "bf16" if bf16 else "fp32", "seconds": round(s, 2),
                     "images_per_s": round(args.batch / s, 2),
                     "speed-up": round(seconds[str((w, False))] / s, 2)})
    print_table(f"{args.target}: DDIM-{args.steps}, batch {args.batch}, {torch.get_num_threads()} threads", rows)


if __name__ == "__main__":
    main()
