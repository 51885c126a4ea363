"""The lambda = 1 column of `make demo`'s class x lambda grid for several trained runs side by side: each row one
run, labels 0-9, the same starting noise as the demo's grid (sampling seed 0, DDIM-50 at the defaults, bf16).
Shows whether a digit that is broken in the shipped picture is the run or the starting noise (docs/diffusion.md 14e).

    python docs/scripts/demo_lambda1_column.py runs/demo-cfg runs/OTHER ... [--out lambda1_runs.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from genvision.loading import load_model
from genvision.viz.grid import save_grid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", default="lambda1_runs.png")
    args = ap.parse_args()
    rows = []
    for run in args.runs:
        model, _ = load_model(run)
        gen = torch.Generator().manual_seed(0)  # as class_by_weight_grid: one batch of the ten labels, seed 0
        with torch.no_grad():
            rows.append(model.sample(10, labels=torch.arange(10), generator=gen, guidance_lambda=1.0, steps=50,
                                     bf16=True).float().clamp(-1, 1))
    path = save_grid(torch.cat(rows), args.out, nrow=10, scale=2, row_labels=[Path(r).name for r in args.runs])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
