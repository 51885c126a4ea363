"""Figures of the discrete-latent models: tokenizer reconstructions (VQ-VAE, token dVAE, and the first stage
of a prior), classic patch VQ beside the VQ-VAE (codebook mosaic, rate-distortion), the mixture dVAE's
samples per component."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from genvision.errors import GenvisionError
from genvision.protocols import CodeMapModel, Tokenizer
from genvision.report.page import Figure, Item
from genvision.report.targets import ReportOptions, ReportTarget, held_out_images

PATCH_VQ_KS = (4, 16, 64)
PATCH_VQ_PATCHES = (2, 4)
PATCH_VQ_IMAGES = 64


def paired_rows(top: Tensor, bottom: Tensor, *, per_row: int) -> Tensor:
    """Interleave two image batches (N, C, H, W) in chunks of per_row: a row of `top`, then the matching row
    of `bottom`, and so on; N is cut to a multiple of per_row."""
    rows = max(1, len(top) // per_row)
    a = top[:rows * per_row].reshape(rows, 1, per_row, *top.shape[1:])
    b = bottom[:rows * per_row].reshape(rows, 1, per_row, *bottom.shape[1:])
    return torch.cat([a, b], dim=1).flatten(0, 2)


def reconstructions(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """Held-out images above their reconstructions through the code map (a prior: through its tokenizer)."""
    from genvision.viz.grid import save_grid

    tokenizer = t.model.tokenizer if isinstance(t.model, CodeMapModel) else t.model
    if not isinstance(tokenizer, Tokenizer):
        raise GenvisionError(f"{t.kind} neither tokenizes images nor models a tokenizer's code maps")
    per_row = min(opts.n, 8)
    x, _ = held_out_images(t, max(per_row, opts.n // per_row * per_row), seed=opts.seed)
    with torch.no_grad():
        idx = tokenizer.encode_indices(x)
        recon = tokenizer.decode_indices(idx).float().clamp(-1, 1)
    grid = paired_rows(x, recon, per_row=per_row)
    path = save_grid(grid, opts.figure_path(t, "reconstructions"), nrow=per_row, scale=2,
                     row_labels=["real", "recon"] * (len(grid) // (2 * per_row)))
    h, w = idx.shape[1:]
    k = int(tokenizer.num_codes)
    bits = f", {h * w * math.log2(k):.0f} bits per image" if k > 1 else ""
    stage = "its frozen tokenizer's " if tokenizer is not t.model else ""
    return [Figure(path, f"Held-out images (rows 'real') and {stage}reconstructions from a {h}x{w} code map "
                         f"(K={k}{bits}).")]


def patch_vq(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """Classic VQ on a few real images: k-means codebook + code map mosaic, and PSNR against bits per pixel
    for a few K and patch sizes, with this VQ-VAE's operating point on the same images."""
    from genvision.quantize.images import load_images, tokenizer_operating_point
    from genvision.quantize.patch_vq import fit_patch_codebook, rate_distortion_sweep
    from genvision.quantize.patch_vq_figures import plot_rate_distortion, save_mosaic

    images, name = load_images(t.data, n=PATCH_VQ_IMAGES, seed=opts.seed)
    gen = torch.Generator().manual_seed(opts.seed)
    book = fit_patch_codebook(images, k=16, patch=4, iters=10, generator=gen)
    mosaic = save_mosaic(images[0], book, opts.figure_path(t, "patch-vq-mosaic"))
    rows = rate_distortion_sweep(images, PATCH_VQ_KS, PATCH_VQ_PATCHES, iters=10, generator=gen)
    point = tokenizer_operating_point(t.model, t.config["model"], images)
    plot = plot_rate_distortion(rows, opts.figure_path(t, "rate-distortion"), points=[point],
                                file_points=file_points(t, targets, images),
                                title=f"classic VQ vs this VQ-VAE on {len(images)} {name} images")
    return [Figure(mosaic, f"Classic patch VQ (k-means, K=16 codes of 4x4 pixels, fitted on {len(images)} "
                           f"{name} images): an image, its code map, its decoding and the codebook."),
            Figure(plot, f"Rate vs distortion of patch VQ for K={', '.join(map(str, PATCH_VQ_KS))} (fitted and "
                         f"measured on the same {len(images)} images), and the VQ-VAE (star); squares: the sizes "
                         "of real files of the same images (genvision compress: patch VQ 4x4 with its codebook, "
                         "the VQ-VAE's codes with a uniform code and with its learned prior when the report has it).")]


def file_points(t: ReportTarget, targets: list[ReportTarget], images: Tensor) -> list[tuple[str, float, float]]:
    """(label, bits per pixel of the payload, PSNR) of real compressed files of images (N, C, H, W) in [-1, 1]:
    patch VQ 4x4 for each K, this VQ-VAE's codes coded uniformly, and with any prior over this VQ-VAE among
    the report's targets."""
    from genvision.compress import CompressOptions, compress, decompress
    from genvision.compress.container import weights_digest
    from genvision.data.dataset import to_uint8
    from genvision.eval.reconstruction import psnr

    u8 = to_uint8(images).permute(0, 2, 3, 1).numpy()
    pixels = images[:, 0].numel()

    def point(label: str, target: str, options: CompressOptions, model=None) -> tuple[str, float, float]:
        container = compress(target, u8, options=options, model=model)
        out = torch.from_numpy(decompress(container, model=model).images).permute(0, 3, 1, 2).float() / 127.5 - 1
        return label, 8 * len(container.payload) / pixels, psnr(out, images)

    points = [point(f"K={k}", "patch-vq", CompressOptions(k=k, patch=4)) for k in PATCH_VQ_KS]
    points.append(point("uniform", t.target, CompressOptions(prior="uniform"), t.model))
    mine = weights_digest(t.model)
    for other in targets:
        if isinstance(other.model, CodeMapModel) and weights_digest(other.model.tokenizer) == mine:
            points.append(point("prior", other.target, CompressOptions(), other.model))
    return points


def components(t: ReportTarget, targets: list[ReportTarget], opts: ReportOptions) -> list[Item]:
    """One row per mixture component k of draws x ~ p(x | k), labelled with p(k)."""
    from genvision.dvae.figures import component_rows

    per_row = min(opts.n, 10)
    path = component_rows(t.model, opts.figure_path(t, "components"), per_row=per_row,
                          generator=torch.Generator().manual_seed(opts.seed))
    return [Figure(path, f"Samples per mixture component (rows, labelled k: p(k)), {per_row} draws each: the "
                         "components are learned without labels.")]
