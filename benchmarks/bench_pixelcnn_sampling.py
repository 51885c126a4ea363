"""Naive vs window vs cached ("fast") PixelCNN sampling time at 28x28 for a default-size model, n = 16.

    .venv/bin/python benchmarks/bench_pixelcnn_sampling.py [--arch pixelcnn|gated] [--n 16] [--threads 1]
        [--skip-naive]

All methods must return the same images for the same seed; the script checks that and prints the times
and the naive / method ratios. Untrained weights: the cost of sampling does not depend on them.
One intra-op thread by default: the cached sampler runs thousands of tiny ops, which a busy shared CPU
slows down many times over when each op is split between threads.
"""

from __future__ import annotations

import argparse
import time

import torch

from genvision.autoregressive import PixelCNNConfig, PixelCNNModel


def time_sample(model: PixelCNNModel, n: int, method: str, seed: int) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    images = model.sample(n, generator=torch.Generator().manual_seed(seed), method=method)
    return time.perf_counter() - start, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="pixelcnn", choices=["pixelcnn", "gated"])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--skip-naive", action="store_true", help="time only window and fast")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = PixelCNNConfig(arch=args.arch)  # 28x28, hidden 64, 7 layers, Bernoulli
    model = PixelCNNModel(config).eval()
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{args.arch}: {config.image_size}x{config.image_size}, hidden {config.hidden}, "
        f"layers {config.layers}, "
        f"{params} parameters, n={args.n}, threads={torch.get_num_threads()}"
    )

    methods = ["fast", "window"] + ([] if args.skip_naive else ["naive"])
    times, images = {}, {}
    for method in methods:
        times[method], images[method] = time_sample(model, args.n, method, args.seed)
        print(f"  {method:>6}: {times[method]:8.2f} s")
    for method in methods[1:]:
        same = torch.equal(images[method], images["fast"])
        print(f"  {method} samples identical to fast: {same}")
    if "naive" in times:
        print(
            f"  naive / window = {times['naive'] / times['window']:.1f}x, "
            f"naive / fast = {times['naive'] / times['fast']:.1f}x"
        )
    else:
        print(f"  window / fast = {times['window'] / times['fast']:.1f}x")


if __name__ == "__main__":
    main()
