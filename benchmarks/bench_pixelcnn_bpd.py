"""How fast is the PixelCNN's likelihood evaluation, and what does the batch size do to it? (issue 17)

    .venv/bin/python benchmarks/bench_pixelcnn_bpd.py [--model pretrained:pixelcnn-mnist] [--n 4500]
        [--marginal-images 1000] [--rounds 3]

1. Side by side, interleaved over rounds: images per CPU-second (one thread) of one exact -log p(x | y) pass
   at batch sizes 4 ... 500 (fp32, and bf16 autocast for reference: it moves the NLL by ~0.1 nats per image, so the eval
   stays fp32). A 28x28 conv net with 128 channels is memory-bound on a CPU: at batch 256 an activation is
   100 MB, at 16 it fits in cache.
2. The eval itself, timed end to end as `genvision eval MODEL --metrics=bpd --split=train --n=N` runs it
   (mnist5k has 4,500 train images; the figure for 10,000 images is the measured time per model pass times
   the passes 10,000 images need, printed as such): the conditional NLL over all N, the class marginal exact over
   --marginal-images of them. Also the exact marginal over every image (the model once per class) on the
   first 500, against the estimate from a 100-image subset of them, to show the estimate and its error bar.
"""

from __future__ import annotations

import argparse
import time

import torch

from genvision.data import load_dataset
from genvision.eval.likelihood import class_marginal_nll
from genvision.eval.scoring import eval_images
from genvision.eval.suites import NLL_BATCH, model_bits_per_dim
from genvision.loading import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="pretrained:pixelcnn-mnist")
    ap.add_argument("--n", type=int, default=4500)
    ap.add_argument("--marginal-images", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    model, config = load_model(args.model)
    x = eval_images(config, data="mnist5k", split="train", n=500, data_dir=None)
    labels = load_dataset("mnist5k", split="train").labels[:500]

    print("\n1. one exact -log p(x | y) pass, images per CPU-second on one thread (median of rounds; higher is better)")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # CPU time of one thread: other jobs on a shared machine do not count
    sizes = [4, 8, 16, 32, 64, 256, 500]
    rates: dict[tuple[str, int], list[float]] = {}
    with torch.no_grad():
        model.nll(x[:8], labels=labels[:8])  # warm-up
        for _ in range(args.rounds):
            for dtype in ("fp32", "bf16"):
                for bs in sizes:
                    t0 = time.process_time()
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
                        for s in range(0, 256, bs):
                            model.nll(x[s:s + bs], labels=labels[s:s + bs])
                    rates.setdefault((dtype, bs), []).append(256 / (time.process_time() - t0))
    base = sorted(rates[("fp32", 500)])[args.rounds // 2]
    for dtype in ("fp32", "bf16"):
        for bs in sizes:
            r = sorted(rates[(dtype, bs)])[args.rounds // 2]
            mark = "  <- eval default (NLL_BATCH)" if (dtype, bs) == ("fp32", NLL_BATCH) else ""
            print(f"  {dtype} batch {bs:4d}: {r:7.1f} img/s  x{r / base:4.2f} vs fp32 batch 500{mark}")

    torch.set_num_threads(threads)
    print(f"\n2. the eval over {args.n} train images, class marginal exact on {args.marginal_images} of them")
    t0 = time.perf_counter()
    res = model_bits_per_dim(model, config, data="mnist5k", split="train", n=args.n, data_dir=None,
                             marginal_images=args.marginal_images)
    dt = time.perf_counter() - t0
    print(f"  {dt:.1f} s: nll {res['nll_nats']:.3f} nats, marginal {res['nll_marginal_nats']:.3f} "
          f"+- {res.get('nll_marginal_se', 0.0):.3f} nats ({res['nll_marginal_images']} images)")
    passes = args.n + min(args.marginal_images, args.n) * 9
    at_10k = dt / passes * (10_000 + min(args.marginal_images, 10_000) * 9)
    print(f"  {passes} passes, {dt / passes * 1000:.2f} ms each -> 10,000 images (10,000 + {args.marginal_images} x 9 "
          f"passes): {at_10k:.0f} s (extrapolated)")

    print("\n3. estimate vs exact on the first 500 train images")
    with torch.no_grad():
        t0 = time.perf_counter()
        exact = class_marginal_nll(lambda a, b: model.nll(a, labels=b), x, labels, 10, batch=NLL_BATCH)
        t_exact = time.perf_counter() - t0
        t0 = time.perf_counter()
        est = class_marginal_nll(lambda a, b: model.nll(a, labels=b), x, labels, 10, marginal_images=100,
                                 batch=NLL_BATCH)
        t_est = time.perf_counter() - t0
    print(f"  exact (all 10 classes x 500): {exact.marginal_mean:.3f} nats in {t_exact:.1f} s")
    print(f"  estimate (100-image subset):  {est.marginal_mean:.3f} +- {est.marginal_se:.3f} nats in {t_est:.1f} s "
          f"(off by {est.marginal_mean - exact.marginal_mean:+.3f} = "
          f"{(est.marginal_mean - exact.marginal_mean) / est.marginal_se:+.1f} standard errors)")


if __name__ == "__main__":
    main()
