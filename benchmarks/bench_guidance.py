"""Cost of classifier-free guidance: conditional sampling vs CFG with one batched forward (2B) vs CFG
with two separate forwards (B + B), same images per call, DDIM steps.

    python benchmarks/bench_guidance.py [--device cpu] [--batch 64] [--steps 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.diffusion.samplers import ddim_sample  # noqa: E402
from genvision.models import get_entry, make_run_spec  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    dev = torch.device(args.device)
    spec = make_run_spec("cfg", preset="mnist")
    model = get_entry("cfg").make(spec.model_config, (1, 28, 28), 10).to(dev).eval()
    labels = (torch.arange(args.batch) % 10).to(dev)
    null = torch.full_like(labels, model.null_label)
    shape = (args.batch, 1, 28, 28)
    w = 2.0

    def two_forwards(x, t):
        eps_c, eps_u = model.denoise(x, t, labels), model.denoise(x, t, null)
        return eps_u + (1 + w) * (eps_c - eps_u)

    def run(fn):
        def go():
            with torch.no_grad():
                ddim_sample(fn, model.schedule, shape, steps=args.steps, device=dev,
                            generator=torch.Generator().manual_seed(0))
            if dev.type == "cuda":
                torch.cuda.synchronize()
        return go

    t = interleaved({"conditional": run(model.eps_fn(labels, weight=0.0)),
                     "cfg_batched": run(model.eps_fn(labels, weight=w)),
                     "cfg_two_forwards": run(two_forwards)}, rounds=args.rounds)
    base = t["conditional"]
    rows = [{"sampler": k, "seconds": v, "images_per_s": args.batch / v, "x_conditional": v / base}
            for k, v in t.items()]
    print_table(f"CFG cost, DDIM {args.steps} steps, batch {args.batch}, {dev}", rows)


if __name__ == "__main__":
    main()
