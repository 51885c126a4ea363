"""Do a PixelCNN's samples look like its data *to the model itself*? (issue 17)

    .venv/bin/python benchmarks/bench_pixelcnn_samples_vs_real.py [MODEL ...] [--per-class 10] [--weights 0,1]
        [--n-real 500]

For each model (default: pretrained:pixelcnn-mnist; give an older checkpoint too to compare side by side):
- NLL of real held-out digits (mnist5k val, the run's own binarisation, fixed seed) and of its own
  class-conditional samples, both -log p(x | y) under the same model. A sampler that draws from the model
  and a model that fits the data give about equal figures; samples much less likely than data say the
  sampler reads another distribution than the loss trains, or the model is blind to something the data has.
- ink (fraction of on pixels) in the top two rows and the bottom four rows: always ~0 in MNIST;
- the shift test: mean NLL of the real digits moved 4 rows down / up minus the NLL of the originals. A model
  that knows where it is in the image charges both; a position-blind one charges only the move up.
"""

from __future__ import annotations

import argparse
import time

import torch

from genvision.config import from_dict
from genvision.data import DataConfig, load_dataset
from genvision.loading import load_model


def shift_rows(x: torch.Tensor, k: int) -> torch.Tensor:
    """Move images (B, C, H, W) in [-1, 1] down by k rows (up for k < 0), filling with background -1."""
    out = torch.full_like(x, -1.0)
    if k > 0:
        out[:, :, k:] = x[:, :, :-k]
    elif k < 0:
        out[:, :, :k] = x[:, :, -k:]
    else:
        out = x.clone()
    return out


def nll(model, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([-model.log_prob(xb, lb) for xb, lb in zip(x.split(250), labels.split(250), strict=True)])


def ink(x: torch.Tensor, rows: slice) -> float:
    return float((x[:, :, rows] > 0).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["pretrained:pixelcnn-mnist"])
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--weights", default="0,1", help="guidance weights to sample at")
    parser.add_argument("--n-real", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = []
    for target in args.models:
        model, config = load_model(target)
        real = load_dataset(config["data"]["data"], split="val")
        x = real.float_images()[: args.n_real]
        y = real.labels[: args.n_real]
        x = from_dict(DataConfig, config["data"]).batch_transform()(x, torch.Generator().manual_seed(1234))
        real_nll = nll(model, x, y)
        row = {"model": target, "real NLL": f"{real_nll.mean():.1f}",
               "shift down 4": f"{(nll(model, shift_rows(x, 4), y) - real_nll).mean():+.1f}",
               "shift up 4": f"{(nll(model, shift_rows(x, -4), y) - real_nll).mean():+.1f}",
               "real ink top2/bottom4": f"{ink(x, slice(0, 2)):.3f}/{ink(x, slice(-4, None)):.3f}"}
        labels = torch.arange(10).repeat_interleave(args.per_class)
        for w in (float(v) for v in args.weights.split(",")):
            t0 = time.perf_counter()
            samples = model.sample(len(labels), labels=labels, guidance_weight=w,
                                   generator=torch.Generator().manual_seed(args.seed))
            seconds = time.perf_counter() - t0
            row[f"w={w:g} sample NLL"] = f"{nll(model, samples, labels).mean():.1f}"
            row[f"w={w:g} ink top2/bottom4"] = f"{ink(samples, slice(0, 2)):.3f}/{ink(samples, slice(-4, None)):.3f}"
            row[f"w={w:g} img/s"] = f"{len(labels) / seconds:.1f}"
        rows.append(row)
    for row in rows:
        print("\n".join(f"{k:>24}: {v}" for k, v in row.items()), end="\n\n")


if __name__ == "__main__":
    main()
