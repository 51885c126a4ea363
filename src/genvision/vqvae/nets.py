"""The VQ-VAE encoder and decoder of van den Oord et al. 2017 (Sec. 4.1): stride-2 4x4 convolutions, a 3x3
convolution and residual blocks (ReLU, 3x3 conv, ReLU, 1x1 conv) on the way down, the mirror image up."""

from __future__ import annotations

from torch import Tensor, nn


class ResidualStack(nn.Module):
    """`blocks` residual blocks x + conv1x1(relu(conv3x3(relu(x)))), then a ReLU: (B, C, H, W) -> same."""

    def __init__(self, channels: int, blocks: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(channels, channels, 1))
            for _ in range(blocks)
        )

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = x + block(x)
        return x.relu()


class Encoder(nn.Module):
    """x (B, C, H, W) -> z (B, latent_dim, H / 2^downsample, W / 2^downsample)."""

    def __init__(self, in_channels: int, *, hidden: int, res_blocks: int, latent_dim: int, downsample: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch = in_channels
        for i in range(downsample):
            out = hidden if i == downsample - 1 else max(hidden // 2, 1)
            layers += [nn.Conv2d(ch, out, 4, stride=2, padding=1), nn.ReLU()]
            ch = out
        layers += [nn.Conv2d(ch, hidden, 3, padding=1), ResidualStack(hidden, res_blocks),
                   nn.Conv2d(hidden, latent_dim, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """z_q (B, latent_dim, h, w) -> (B, out_channels, h * 2^upsample, w * 2^upsample): means or logits."""

    def __init__(self, out_channels: int, *, hidden: int, res_blocks: int, latent_dim: int, upsample: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(latent_dim, hidden, 3, padding=1), ResidualStack(hidden, res_blocks)]
        ch = hidden
        for i in range(upsample):
            last = i == upsample - 1
            out = out_channels if last else max(hidden // 2, 1)
            layers.append(nn.ConvTranspose2d(ch, out, 4, stride=2, padding=1))
            if not last:
                layers.append(nn.ReLU())
            ch = out
        if upsample == 0:
            layers.append(nn.Conv2d(hidden, out_channels, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, z_q: Tensor) -> Tensor:
        return self.net(z_q)
