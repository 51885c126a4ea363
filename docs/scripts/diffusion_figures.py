"""README's diffusion pictures from the shipped models: docs/results/diffusion/ddpm_samples.png (64 samples of
pretrained:ddpm-mnist), cfg_samples.png (64 samples at w=0, labels
0-9 in turn, one column per class) and cfg_grid.png (class x w, w = 0, 0.5, 1, 2, 3, 4, the same noise per row);
DDIM-50 at the sampling defaults (eta = 1, bf16), seed 0.

    python docs/scripts/diffusion_figures.py [--target pretrained:cfg-mnist] [--ddpm pretrained:ddpm-mnist]
        [--out docs/results/diffusion]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from genvision.diffusion.sweep import class_by_weight_grid
from genvision.loading import load_model
from genvision.viz.grid import save_grid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="pretrained:cfg-mnist")
    ap.add_argument("--ddpm", default="pretrained:ddpm-mnist")
    ap.add_argument("--out", default="docs/results/diffusion")
    args = ap.parse_args()
    out = Path(args.out)
    ddpm, _ = load_model(args.ddpm)
    with torch.no_grad():
        samples = ddpm.sample(64, generator=torch.Generator().manual_seed(0), steps=50, bf16=True)
        print(save_grid(samples, out / "ddpm_samples.png", nrow=8))
    model, _ = load_model(args.target)
    with torch.no_grad():
        samples = model.sample(64, labels=torch.arange(64) % 10, generator=torch.Generator().manual_seed(0),
                               steps=50, bf16=True)
        print(save_grid(samples, out / "cfg_samples.png", nrow=10))
        print(class_by_weight_grid(model, out / "cfg_grid.png", values=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0],
                                   option="guidance_weight", num_classes=model.num_classes, steps=50,
                                   label_fmt="w={}", bf16=True))


if __name__ == "__main__":
    main()
