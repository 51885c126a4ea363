"""`genvision patch-vq IMAGE_OR_DATASET [--k=64] [--patch=4] [--out=DIR]`: classic VQ of an image or a dataset."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor

from genvision.config import check_positive_ints, option, parse_key_values, parse_options
from genvision.errors import GenvisionError
from genvision.outputs import check_output_dir
from genvision.quantize.images import load_images, tokenizer_operating_point

USAGE = ("usage: genvision patch-vq IMAGE_OR_DATASET [--k=64] [--patch=4] [--out=DIR] [--n=1000] "
         "[--ks=2,4,16,64,256] [--patches=2,4] [--iters=10] [--seed=0] [--vqvae=RUN]")


def _ints(text: str) -> list[int]:
    """An option value check_positive_ints accepted, as integers."""
    return [int(v) for v in text.split(",") if v.strip()]


def vqvae_operating_point(run: str, images: Tensor) -> tuple[str, float, float]:
    """The operating point of the tokenizer run at `run` on images, printed."""
    from genvision.loading import load_model

    model, config = load_model(run)
    label, bpp, value = tokenizer_operating_point(model, config["model"], images)
    print(f"{config['model']} {run}: {bpp:.4f} bits/pixel, PSNR {value:.2f} dB")
    return label, bpp, value


@dataclass(frozen=True)
class PatchVQOptions:
    k: int = option(64, min=1)
    patch: int = option(4, min=1)
    n: int = option(1000, min=1)
    iters: int = option(10, min=1)
    seed: int = 0
    ks: str = option("2,4,16,64,256", check=check_positive_ints)
    patches: str = option("2,4", check=check_positive_ints)
    out: str | None = None
    vqvae: str | None = None


def cmd_patch_vq(args: list[str]) -> int:
    """Fit a K-code codebook of p x p patches, print rate and PSNR, write the mosaic and a rate-distortion
    sweep (plot + JSON) to --out (default runs/patch-vq-NAME)."""
    from genvision.eval.reconstruction import psnr
    from genvision.eval.table import format_table
    from genvision.quantize.patch_vq import (
        decode,
        encode,
        fit_patch_codebook,
        rate_bits_per_pixel,
        rate_distortion_sweep,
    )
    from genvision.quantize.patch_vq_figures import plot_rate_distortion, save_mosaic

    if not args or args[0].startswith("--"):
        raise GenvisionError(USAGE)
    opts = parse_options(PatchVQOptions, parse_key_values(args[1:]), what="patch-vq")
    k, patch, n, iters, seed, out_opt, vqvae_run = (opts.k, opts.patch, opts.n, opts.iters, opts.seed, opts.out,
                                                    opts.vqvae)
    ks = _ints(opts.ks)
    patches = sorted(set(_ints(opts.patches)) | {patch})
    if out_opt:
        check_output_dir(out_opt)
    images, name = load_images(args[0], n=n, seed=seed)
    # Every patch size of the sweep must tile the images: crop to a multiple of their least common multiple.
    step = math.lcm(*patches)
    h, w = images.shape[2] // step * step, images.shape[3] // step * step
    if h == 0 or w == 0:
        raise GenvisionError(f"images of {images.shape[2]}x{images.shape[3]} are smaller than the patches {patches}")
    images = images[:, :, :h, :w]
    out = check_output_dir(out_opt or f"runs/patch-vq-{name}", option="--out" if out_opt else "patch-vq's output")
    t0 = time.time()
    gen = torch.Generator().manual_seed(seed)
    book = fit_patch_codebook(images, k=k, patch=patch, iters=iters, generator=gen)
    recon = decode(encode(images, book), book)
    n_img, c = images.shape[:2]
    rate = rate_bits_per_pixel(k, patch)
    total = rate_bits_per_pixel(k, patch, channels=c, n_images=n_img, image_pixels=h * w)
    print(f"{name}: {n_img} image(s) {c}x{h}x{w}, K={k} codes of {patch}x{patch} patches")
    print(f"rate {rate:.4f} bits/pixel (code map), {total:.4f} with the float32 codebook spread over "
          f"{n_img} image(s); PSNR {psnr(recon, images):.2f} dB")
    mosaic = save_mosaic(images[0], book, out / "mosaic.png")
    rows = rate_distortion_sweep(images, ks, patches, iters=iters, generator=gen)
    print(format_table(rows))
    (out / "rate_distortion.json").write_text(json.dumps(
        [{**r, "psnr": None if math.isinf(r["psnr"]) else r["psnr"]} for r in rows], indent=2) + "\n")
    points = [vqvae_operating_point(vqvae_run, images)] if vqvae_run else []
    plot = plot_rate_distortion(rows, out / "rate_distortion.png", title=f"classic VQ on {name}", points=points)
    print(f"mosaic {mosaic}\nrate-distortion plot {plot} ({time.time() - t0:.0f}s)")
    return 0
