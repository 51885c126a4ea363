"""Receptive fields measured by the Jacobian: which input pixels one output pixel depends on.

.venv/bin/python -m genvision.autoregressive.receptive_field docs/img/receptive_field.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from genvision.autoregressive.gated import GatedPixelCNN
from genvision.autoregressive.pixelcnn import PixelCNN
from genvision.autoregressive.sampling import ReceptiveField


def input_dependence(net: nn.Module, x: Tensor, i: int, j: int) -> Tensor:
    """|d net(x)[:, :, i, j] / d x| summed over batch, output and input channels: (H, W) >= 0.

    Exactly zero (in float64) where the output cannot depend on the input; a batch of random images makes
    an accidental zero (every ReLU on every path off) vanishingly unlikely.
    """
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(net(x)[:, :, i, j].sum(), x)
    return grad.abs().sum((0, 1))


def receptive_field_maps(*, image_size: int = 15, seed: int = 0) -> dict[str, tuple[Tensor, ReceptiveField]]:
    """Dependence map (H, W) of the centre pixel and the bounding box, for a PixelCNN (7x7 + 3 residual
    blocks) and a Gated PixelCNN (7x7 + 3 gated 3x3 layers), both reaching 6 pixels left and right,
    random float64 weights."""
    torch.manual_seed(seed)
    nets = {
        "PixelCNN (7x7 A + 3 blocks of 3x3 B)": PixelCNN(1, 1, hidden=32, layers=3),
        "Gated PixelCNN (7x7 A + 3 gated 3x3 layers)": GatedPixelCNN(1, 1, hidden=16, layers=4),
    }
    x = torch.randn(16, 1, image_size, image_size, dtype=torch.float64)
    c = image_size // 2
    return {
        name: (input_dependence(net.double(), x, c, c), net.receptive_field) for name, net in nets.items()
    }


def plot_receptive_field(path: str | Path, *, image_size: int = 15, seed: int = 0) -> Path:
    """Save the two dependence maps side by side: blue = dependence (log scale), orange = blind spot
    (earlier pixels within the reach that have no influence), grey = later pixels, red = the pixel."""
    import numpy as np

    from genvision.viz.plots import pyplot, save_figure

    maps = receptive_field_maps(image_size=image_size, seed=seed)
    c = image_size // 2
    index = np.arange(image_size * image_size).reshape(image_size, image_size)
    before = index < c * image_size + c
    fig, axes = pyplot().subplots(1, len(maps), figsize=(5 * len(maps), 5.2))
    for ax, (name, (dep, field)) in zip(axes, maps.items(), strict=True):
        d = dep.numpy()
        seen = d > 0
        log_d = np.log10(np.where(seen, d, 1.0))
        strength = (log_d - log_d[seen].min()) / max(np.ptp(log_d[seen]), 1e-12)
        rgb = np.ones((image_size, image_size, 3))
        rgb[~before] = (0.85, 0.85, 0.85)
        rgb[seen] = np.stack([0.75 - 0.6 * strength, 0.85 - 0.55 * strength, np.ones_like(strength)], -1)[
            seen
        ]
        rows, cols = np.meshgrid(np.arange(image_size), np.arange(image_size), indexing="ij")
        in_box = (cols >= c - field.left) & (cols <= c + field.right) & (rows >= c - field.up)
        blind = before & ~seen & in_box
        rgb[blind] = (1.0, 0.6, 0.1)
        rgb[c, c] = (0.85, 0.1, 0.1)
        ax.imshow(rgb, interpolation="nearest")
        ax.set_title(
            f"{name}\n{int(seen.sum())} of {int(before.sum())} earlier pixels seen, {int(blind.sum())} blind"
        )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("d output(centre) / d input: blue = dependence (darker = stronger), orange = blind spot")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_figure(fig, path, tight=False)


if __name__ == "__main__":
    print(plot_receptive_field(sys.argv[1] if len(sys.argv) > 1 else "docs/img/receptive_field.png"))
