"""Rate table on mnist5k val: real file sizes of every coder against PNG, gzip and xz on the same images.

    .venv/bin/python benchmarks/bench_compression.py [--n 500] [--threads 1] [--batch 500] [--json FILE]

Rows (bits per image; "file" adds the .gv header and checksum spread over the N images):
- raw: 8 bits per pixel (grey) / 1 bit per pixel (binarised at 128);
- PNG (Pillow, optimize=True) one file per image and all N images as one strip; gzip -9 / xz -9 of the raw
  array (the binary images bit-packed);
- PixelCNN (pretrained:pixelcnn-mnist, binary, null label): lossless on the binarised digits, against the
  model's exact -log2 p(x) from one forward pass;
- VQ-VAE codes (pretrained:vqvae-mnist / vqvae-prior-mnist): uniform code vs the learned prior (best label,
  a two-part code), PSNR of the reconstruction against the grey originals;
- patch VQ, 4x4 patches, K in {16, 64, 256}: codebook fitted on these N images and stored in the file.
Encode and decode speed in images/s (one run each, wall clock, including model loading is excluded).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import lzma
import math
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genvision.compress import CompressOptions, compress, decompress, pixels
from genvision.compress import codes as code_maps
from genvision.compress.api import load_coding_model
from genvision.compress.container import pack
from genvision.data import load_dataset
from genvision.eval.reconstruction import psnr


def png_bytes(image: np.ndarray, *, binary: bool) -> int:
    buf = io.BytesIO()
    img = Image.fromarray(image)
    (img.convert("1") if binary else img).save(buf, format="PNG", optimize=True)
    return buf.tell()


def baseline_rows(grey: np.ndarray, binary: np.ndarray) -> list[dict]:
    n, h, w, _ = grey.shape
    rows = []
    for name, images, raw_bits in (("grey", grey, 8), ("binary", binary, 1)):
        flat = images[:, :, :, 0]
        raw = flat.tobytes() if name == "grey" else np.packbits(flat > 0).tobytes()
        strip = np.concatenate(list(flat), axis=1)  # (H, N W): all images side by side
        per = {
            f"raw ({raw_bits} bit/pixel)": raw_bits * h * w,
            "PNG per image (optimize)": 8 * sum(png_bytes(im, binary=name == "binary") for im in flat) / n,
            "PNG, all as one strip": 8 * png_bytes(strip, binary=name == "binary") / n,
            "gzip -9 of the array": 8 * len(gzip.compress(raw, 9)) / n,
            "xz -9 of the array": 8 * len(lzma.compress(raw, preset=9)) / n,
        }
        rows += [{"method": k, "images": name, "bits/image": v, "file bits/image": v, "PSNR dB": None}
                 for k, v in per.items()]
    return rows


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def coder_row(method: str, images_name: str, target: str, images: np.ndarray, reference: np.ndarray | None,
              options: CompressOptions, model=None, nll_bits: float | None = None, verify=None) -> dict:
    n = len(images)
    container, t_enc = timed(lambda: compress(target, images, options=options, model=model))
    data = pack(container)
    out, t_dec = timed(lambda: decompress(container, model=model))
    if verify is not None:
        assert verify(out.images), f"{method}: decoded images are not what was coded"
    row = {"method": method, "images": images_name, "bits/image": 8 * len(container.payload) / n,
           "file bits/image": 8 * len(data) / n, "PSNR dB": None, "NLL bits/image": nll_bits,
           "encode img/s": n / t_enc, "decode img/s": n / t_dec}
    if reference is not None:
        to_float = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 127.5 - 1  # noqa: E731
        row["PSNR dB"] = psnr(to_float(out.images), to_float(reference))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500, help="images per pass of the coding loops")
    parser.add_argument("--skip-pixelcnn", action="store_true")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = load_dataset("mnist5k", split="val")
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[: args.n].sort().values
    grey = data.images[pick].permute(0, 2, 3, 1).contiguous().numpy()
    binary = (grey >= 128).astype(np.uint8) * 255
    n = len(grey)
    print(f"mnist5k val: {n} images 28x28, {torch.get_num_threads()} thread(s), coding batch {args.batch}")
    rows = baseline_rows(grey, binary)

    if not args.skip_pixelcnn:
        model = load_coding_model("pretrained:pixelcnn-mnist")
        nll = float(pixels.nll_bits(model, torch.from_numpy(binary), torch.full((n,), model.null_label)).sum())
        rows.append(coder_row("PixelCNN, lossless (null label)", "binary", "pretrained:pixelcnn-mnist", binary,
                              None, CompressOptions(batch=args.batch), model=model, nll_bits=nll / n,
                              verify=lambda out: np.array_equal(out, binary)))
        print(rows[-1], flush=True)

    prior = load_coding_model("pretrained:vqvae-prior-mnist")
    maps = code_maps.encode_maps(prior, torch.from_numpy(grey))
    for which in ("uniform", "learned"):
        options = CompressOptions(prior=which, batch=args.batch)
        rows.append(coder_row(f"VQ-VAE 7x7 codes, {which} prior", "grey", "pretrained:vqvae-prior-mnist", grey,
                              grey, options, model=prior))
        print(rows[-1], flush=True)
    rows[-2]["NLL bits/image"] = 49 * math.log2(64)
    # the learned row's ideal: -log2 p(z | y*) + log2(10) with the label the coder picked (best per image)
    from genvision.compress.autoregressive import best_labels

    y = best_labels(prior.pixelcnn, maps.unsqueeze(1).float(), batch=args.batch)
    rows[-1]["NLL bits/image"] = float(code_maps.prior_bits(prior, maps, y).mean()) + math.log2(10)

    for k in (16, 64, 256):
        rows.append(coder_row(f"patch VQ 4x4, K={k}", "grey", "patch-vq", grey, grey,
                              CompressOptions(k=k, patch=4, iters=10)))
        print(rows[-1], flush=True)

    from genvision.eval.table import format_table

    print(format_table(rows))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"n": n, "threads": args.threads, "batch": args.batch,
                                               "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
