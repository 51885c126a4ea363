"""The lambda = 1 column of `make demo`'s class x lambda grid for several trained runs side by side: each row one
run (and sampling seed), labels 0-9, the same starting noise as the demo's grid for seed 0 (one batch of the ten
labels, DDIM-50 at the defaults, bf16). Shows whether a digit that is broken in the shipped picture is the run or
the starting noise (docs/diffusion.md 14e), and with --seeds K how often a whole column comes out right: each row is
scored by the evaluation classifier, and the share of rows with all ten digits classified as their label is printed
(14f), beside the same figure for real digits: the product of the classifier's per-class accuracies on mnist5k val.

    python docs/scripts/demo_lambda1_column.py runs/demo-cfg runs/OTHER ... [--seeds 1] [--out lambda1_runs.png]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from genvision.data import load_dataset
from genvision.eval.conditional import class_accuracy
from genvision.eval.features import classify, load_classifier
from genvision.loading import load_model
from genvision.viz.grid import save_grid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--seeds", type=int, default=1, help="rows per run: sampling seeds 0..K-1")
    ap.add_argument("--out", default="lambda1_runs.png")
    args = ap.parse_args()
    labels = torch.arange(10)
    clf = load_classifier("pretrained:eval-classifier-mnist").model
    rows, names = [], []
    for run in args.runs:
        model, _ = load_model(run)
        right = []
        for seed in range(args.seeds):
            gen = torch.Generator().manual_seed(seed)  # as class_by_weight_grid: one batch of the ten labels
            with torch.no_grad():
                column = model.sample(10, labels=labels, generator=gen, guidance_lambda=1.0, steps=50,
                                      bf16=True).float().clamp(-1, 1)
                right.append(classify(clf, column).logits.argmax(1) == labels)
            rows.append(column)
            names.append(Path(run).name + (f" s{seed}" if args.seeds > 1 else ""))
        right = torch.stack(right)  # (seeds, 10)
        print(f"{run}: {int(right.all(1).sum())}/{args.seeds} columns with all ten digits classified right; "
              f"{right.float().mean():.3f} of the digits; wrong per class: {(~right).sum(0).tolist()}")
    real = load_dataset("mnist5k", split="val")
    with torch.no_grad():
        per_class = class_accuracy(classify(clf, real.float_images()).logits, real.labels, 10).per_class
    print(f"real mnist5k val digits ({len(real)}): a column of ten right with probability "
          f"{math.prod(per_class):.2f} (product of the per-class accuracies)")
    path = save_grid(torch.cat(rows), args.out, nrow=10, scale=2, row_labels=names)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
