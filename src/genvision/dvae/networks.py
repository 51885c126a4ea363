"""The encoder and decoder bodies of the discrete VAEs: a plain MLP, and a convolutional encoder /
decoder that change resolution by a factor 2 ** downsamples (28x28 -> 7x7 with two stride-2 stages)."""

from __future__ import annotations

from torch import Tensor, nn


def mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """in_dim -> hidden -> hidden -> out_dim with ReLUs: (B, in_dim) -> (B, out_dim)."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_dim)
    )


class ResidualBlock(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))), channels unchanged (the block of DALL-E's dVAE, without its
    gain and depth; no normalisation, so outputs do not depend on the batch)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, channels, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ConvEncoder(nn.Sequential):
    """(B, in_ch, H, W) -> (B, out_ch, H / 2**downsamples, W / 2**downsamples): stride-2 4x4 convolutions,
    one residual block at the lowest resolution, a 1x1 output convolution."""

    def __init__(self, in_ch: int, hidden: int, out_ch: int, *, downsamples: int = 2) -> None:
        layers: list[nn.Module] = []
        ch = in_ch
        for _ in range(downsamples):
            layers += [nn.Conv2d(ch, hidden, 4, stride=2, padding=1), nn.ReLU()]
            ch = hidden
        layers += [nn.Conv2d(ch, hidden, 3, padding=1), ResidualBlock(hidden), nn.ReLU(), nn.Conv2d(hidden, out_ch, 1)]
        super().__init__(*layers)


class ConvDecoder(nn.Sequential):
    """(B, in_ch, h, w) -> (B, out_ch, h * 2**downsamples, w * 2**downsamples): a 3x3 convolution, one
    residual block, stride-2 4x4 transposed convolutions, a 3x3 output convolution."""

    def __init__(self, in_ch: int, hidden: int, out_ch: int, *, downsamples: int = 2) -> None:
        layers: list[nn.Module] = [nn.Conv2d(in_ch, hidden, 3, padding=1), ResidualBlock(hidden)]
        for _ in range(downsamples):
            layers += [nn.ReLU(), nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1)]
        layers += [nn.ReLU(), nn.Conv2d(hidden, out_ch, 3, padding=1)]
        super().__init__(*layers)
