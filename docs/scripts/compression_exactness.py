"""Why encoder and decoder must run the same loop: the full forward pass (one call, all pixels) and the cached
stepper (one position at a time) give the same probabilities only up to the last float bits.

    .venv/bin/python docs/scripts/compression_exactness.py [--n 8]

Prints, for the shipped binary PixelCNN on N binarised mnist5k val digits, how many of the N x 784 pixel
probabilities differ between the two computations and by how much (quoted in docs/compression.md).
"""

from __future__ import annotations

import argparse

import torch

from genvision.autoregressive.sampling import Site
from genvision.compress.api import load_coding_model
from genvision.data import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_coding_model("pretrained:pixelcnn-mnist")
    x = load_dataset("mnist5k", split="val").float_images(slice(0, args.n))
    v = model.values(x)
    labels = torch.full((args.n,), model.null_label)
    with torch.no_grad():
        full = torch.sigmoid(model.params(v, labels=labels))[:, 0]  # (n, H, W): p(pixel on | pixels before)
    stepped = torch.zeros_like(full)

    def take_known(params, pixel, site: Site):
        stepped[:, site.i, site.j] = torch.sigmoid(params[:, 0])
        out = pixel.clone()
        out[:, 0] = v[:, 0, site.i, site.j]
        return out

    model.fill_with(torch.zeros_like(v), take_known, labels=labels)
    diff = (full - stepped).abs()
    print(f"{args.n} images x 784 pixels: {int((diff > 0).sum())} of {diff.numel()} probabilities differ "
          f"between the full pass and the stepper; largest difference {float(diff.max()):.3g}")
    q = lambda p: torch.round(p.double() * 2**24)  # noqa: E731 (a 24-bit quantiser, as the range coder's)
    print(f"24-bit quantised: {int((q(full) != q(stepped)).sum())} differ")


if __name__ == "__main__":
    main()
