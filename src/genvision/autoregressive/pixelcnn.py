"""PixelCNN (van den Oord et al. 2016a): a 7x7 mask-A conv, residual blocks with a masked 3x3 type-B conv,
and a 1x1 head; plus its cached one-position step for fast sampling (Ramachandran et al. 2017)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from genvision.autoregressive.conditioning import Conditioning, Window, add_bias, bias_at
from genvision.autoregressive.masked_conv import MaskedConv2d, conv_at
from genvision.autoregressive.sampling import ReceptiveField, capture_inputs
from genvision.errors import GenvisionError


class ResidualBlock(nn.Module):
    """ReLU -> 1x1 (h -> h/2) -> ReLU -> masked k x k type B -> (+ conditioning) -> ReLU -> 1x1 (h/2 -> h),
    added to the input (Fig. 5, van den Oord et al. 2016a). x: (B, h, H, W) -> (B, h, H, W)."""

    def __init__(
        self,
        hidden: int,
        *,
        kernel: int,
        data_channels: int,
        num_classes: int = 0,
        cond_channels: int = 0,
        position_size: int = 0,
    ) -> None:
        super().__init__()
        inner = hidden // 2
        self.reduce = MaskedConv2d(hidden, inner, 1, mask_type="B", data_channels=data_channels)
        self.conv = MaskedConv2d(inner, inner, kernel, mask_type="B", data_channels=data_channels)
        self.expand = MaskedConv2d(inner, hidden, 1, mask_type="B", data_channels=data_channels)
        self.cond = Conditioning(
            inner, num_classes=num_classes, cond_channels=cond_channels, position_size=position_size
        )

    def forward(
        self,
        h: Tensor,
        *,
        labels: Tensor | None = None,
        cond_map: Tensor | None = None,
        window: Window | None = None,
    ) -> Tensor:
        t = self.conv(F.relu(self.reduce(F.relu(h))))
        t = add_bias(t, self.cond(labels, cond_map, window))
        return h + self.expand(F.relu(t))


class PixelCNN(nn.Module):
    """x: (B, in_channels, H, W) -> per-pixel distribution parameters (B, out_channels, H, W).

    Output position (i, j), colour group g depends only on input pixels before (i, j) in raster order and on
    colour groups < g of pixel (i, j). The stack of 3x3 masks has a blind spot (see docs/pixelcnn.md).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        hidden: int = 64,
        layers: int = 7,
        data_channels: int = 1,
        first_kernel: int = 7,
        kernel: int = 3,
        num_classes: int = 0,
        cond_channels: int = 0,
        position_size: int = 0,
    ) -> None:
        super().__init__()
        if hidden % (2 * data_channels):
            raise GenvisionError(f"PixelCNN: hidden={hidden} must be a multiple of 2 * data_channels")
        dc = data_channels
        self.first_kernel, self.kernel, self.layers = first_kernel, kernel, layers
        self.input_conv = MaskedConv2d(in_channels, hidden, first_kernel, mask_type="A", data_channels=dc)
        self.blocks = nn.ModuleList(
            ResidualBlock(
                hidden,
                kernel=kernel,
                data_channels=dc,
                num_classes=num_classes,
                cond_channels=cond_channels,
                position_size=position_size,
            )
            for _ in range(layers)
        )
        # Two 1x1 layers with ReLU before the output (Sec. 4, van den Oord et al. 2016a).
        self.head = nn.Sequential(
            nn.ReLU(),
            MaskedConv2d(hidden, hidden, 1, mask_type="B", data_channels=dc),
            nn.ReLU(),
            MaskedConv2d(hidden, out_channels, 1, mask_type="B", data_channels=dc),
        )

    @property
    def receptive_field(self) -> ReceptiveField:
        """Bounding box of the pixels an output can depend on (the blind spot lies inside it)."""
        reach = self.first_kernel // 2 + self.layers * (self.kernel // 2)
        return ReceptiveField(up=reach, left=reach, right=reach)

    def forward(
        self,
        x: Tensor,
        *,
        labels: Tensor | None = None,
        cond_map: Tensor | None = None,
        window: Window | None = None,
    ) -> Tensor:
        """window: the (rows, cols) of the image that x is a crop of (window sampler); None: x is the image."""
        h = self.input_conv(x)
        for block in self.blocks:
            h = block(h, labels=labels, cond_map=cond_map, window=window)
        return self.head(h)

    def stepper(
        self, x: Tensor, *, labels: Tensor | None = None, cond_map: Tensor | None = None
    ) -> PixelCNNStepper:
        """Cached one-position evaluation for sampling, primed with a full pass over x."""
        return PixelCNNStepper(self, x, labels=labels, cond_map=cond_map)


class PixelCNNStepper:
    """params(i, j) = PixelCNN(x)[:, :, i, j] computed at a single position per layer (Ramachandran et al.
    2017). Every layer's activation at (i, j) depends only on pixels before (i, j), so once computed at step
    (i, j) it is final; each masked k x k conv keeps its (padded) input map as a cache and reads the rows up
    to the centre from it. Call in raster order from any start pixel: positions before it come from the
    priming pass. x: (n, in_channels, H, W) network input, refreshed from the caller's tensor each call.
    """

    def __init__(self, net: PixelCNN, x: Tensor, *, labels: Tensor | None, cond_map: Tensor | None) -> None:
        self.net = net
        convs = [block.conv for block in net.blocks]
        inputs = capture_inputs(net, convs, x, labels=labels, cond_map=cond_map)
        c0 = net.first_kernel // 2
        self.x_pad = F.pad(x, (c0, c0, c0, 0))
        c = net.kernel // 2
        self.caches = [F.pad(inputs[conv], (c, c, c, 0)) for conv in convs]
        self.cond = [block.cond(labels, cond_map) for block in net.blocks]
        self.w_in, self.b_in = net.input_conv.step_weight(), net.input_conv.bias
        self.weights = [
            (
                b.reduce.step_weight(),
                b.reduce.bias,
                b.conv.step_weight(),
                b.conv.bias,
                b.expand.step_weight(),
                b.expand.bias,
            )
            for b in net.blocks
        ]
        self.head = [(m.step_weight(), m.bias) for m in net.head if isinstance(m, MaskedConv2d)]

    def __call__(self, x: Tensor, i: int, j: int) -> Tensor:
        """Parameters at pixel (i, j): (n, out_channels)."""
        k0, c0 = self.net.first_kernel, self.net.first_kernel // 2
        k, c = self.net.kernel, self.net.kernel // 2
        top = max(0, i - c0)
        self.x_pad[:, :, top + c0 : i + c0 + 1, c0 : c0 + x.shape[-1]] = x[:, :, top : i + 1]
        h = conv_at(self.x_pad, self.w_in, self.b_in, i, j, c0 + 1, k0)
        for cache, cond, (w_r, b_r, w_c, b_c, w_e, b_e) in zip(
            self.caches, self.cond, self.weights, strict=True
        ):
            cache[:, :, i + c, j + c] = F.relu(F.linear(F.relu(h), w_r, b_r))
            t = conv_at(cache, w_c, b_c, i, j, c + 1, k) + bias_at(cond, i, j)
            h = h + F.linear(F.relu(t), w_e, b_e)
        for w, b in self.head:
            h = F.linear(F.relu(h), w, b)
        return h
