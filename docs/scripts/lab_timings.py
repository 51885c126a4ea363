"""Time each lab tab's default action as the page calls it (the library function with the page's default
controls), on the shipped models: one warm-up, then the median of --repeats runs, torch on --threads threads;
wall time and, robust to other jobs on the machine at one thread, CPU time.

    python docs/scripts/lab_timings.py [--repeats=5] [--threads=1]      (~1 min on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from genvision.data import load_dataset
from genvision.lab import codes, completion, guidance, mixture
from genvision.lab.models import LabModels, heldout_digits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)  # as `genvision lab` runs
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    m = LabModels()
    x = heldout_digits(1)[0]
    train = load_dataset("mnist5k", split="train").float_images(slice(0, 1000))
    book = codes.fit_patch_vq(train, k=64)
    vqvae = m.get("vqvae")
    code_map = codes.encode_image(vqvae, x)
    actions = {  # the page's defaults (lab/app.py)
        "1 CFG: Generate (4 samples + 7-lambda row, 10 DDIM steps)":
            lambda: guidance.cfg_tab(m.get("cfg"), label=3, lam=3.0, steps=10, n=4),
        "2 classifier guidance: Generate (4 samples, 20 DDIM steps, s=4)":
            lambda: guidance.classifier_guidance_tab(m.get("ddpm"), m.get("noisy-classifier"), label=3, scale=4.0,
                                                     steps=20, n=4),
        "3 PixelCNN: Occlude and complete (8 completions of 14 rows + bits map)":
            lambda: completion.complete_ranked(m.get("pixelcnn"), x, rows=14, n=8),
        "4 VQ-VAE: Encode": lambda: codes.view_codes(vqvae, codes.encode_image(vqvae, x)),
        "4 VQ-VAE: Set cell (edit + decode)":
            lambda: codes.view_codes(vqvae, codes.edit_code(code_map, 3, 2, 9, 64), highlight=(3, 2)),
        "4 VQ-VAE: Sample the prior (8 code maps)": lambda: codes.prior_samples(m.get("vqvae-prior"), label=3),
        "4 patch VQ: Fit and code (K=64, 1000 digits)":
            lambda: codes.view_patch_vq(codes.fit_patch_vq(train, k=64), x),
        "4 patch VQ: code with a fitted K": lambda: codes.view_patch_vq(book, x),
        "5 dVAE: Show the components (10 x 8)": lambda: mixture.component_rows(m.get("dvae-mixture")),
        "5 dVAE: Posterior q(k | x)": lambda: mixture.posterior_bars(m.get("dvae-mixture"), x),
    }
    print(f"torch threads {torch.get_num_threads()}, median of {args.repeats} after one warm-up")
    for name, action in actions.items():
        action()
        times, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            action()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        # On one thread the CPU time is what the action costs on a quiet machine; wall time adds the waits for
        # other jobs' turns on a shared one.
        print(f"{name:72s} {statistics.median(times):6.2f} s  (min {min(times):.2f}, max {max(times):.2f}), "
              f"CPU {statistics.median(cpu):.2f} s")


if __name__ == "__main__":
    main()
