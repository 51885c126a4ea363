"""Gated PixelCNN (van den Oord et al. 2016b): a vertical stack (rows above) and a horizontal stack (the
current row, left of the pixel), tanh * sigmoid gates, the vertical stack feeding the horizontal one through
a 1x1 conv after a one-row down-shift. No blind spot: the vertical stack covers the whole rectangle above."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genvision.autoregressive.conditioning import Conditioning, Window, add_bias, bias_at
from genvision.autoregressive.masked_conv import (
    HorizontalConv2d,
    MaskedConv2d,
    MaskType,
    VerticalConv2d,
    conv_at,
)
from genvision.autoregressive.sampling import ReceptiveField, capture_io
from genvision.errors import GenvisionError


def gate(a: Tensor, groups: int) -> Tensor:
    """tanh(a_f) * sigmoid(a_g) (Eq. 2, van den Oord et al. 2016b).

    a: (B, 2p, ...) laid out as `groups` colour groups, each [f | g] -> (B, p, ...), groups kept contiguous
    so the RGB channel ordering of the masks survives the gate.
    """
    y = a.unflatten(1, (groups, 2, -1))
    return (torch.tanh(y[:, :, 0]) * torch.sigmoid(y[:, :, 1])).flatten(1, 2)


def shift_down(t: Tensor) -> Tensor:
    """Row i takes row i - 1 (row 0 gets zeros): (B, C, H, W) -> (B, C, H, W)."""
    return F.pad(t, (0, 0, 1, 0))[:, :, :-1]


class GatedLayer(nn.Module):
    """One gated layer (Fig. 2, van den Oord et al. 2016b): (v, h) (B, in, H, W) each -> (B, p, H, W) each.

    v' = gate(V * v + c_v);  h' = [h +] 1x1(gate(H * h + 1x1(shift_down(V * v)) + c_h)).
    """

    def __init__(
        self,
        in_channels: int,
        hidden: int,
        *,
        kernel: int,
        mask_type: MaskType,
        data_channels: int,
        num_classes: int = 0,
        cond_channels: int = 0,
        position_size: int = 0,
    ) -> None:
        super().__init__()
        dc, two_p = data_channels, 2 * hidden
        self.groups = dc
        self.residual = mask_type == "B"  # the first (type A) layer changes the width: no residual there
        self.v_conv = VerticalConv2d(in_channels, two_p, kernel)
        self.h_conv = HorizontalConv2d(in_channels, two_p, kernel, mask_type=mask_type, data_channels=dc)
        # Rows above only (after the shift): any vertical channel may feed any colour group.
        self.link = nn.Conv2d(two_p, two_p, 1)
        self.h_out = MaskedConv2d(hidden, hidden, 1, mask_type="B", data_channels=dc)
        cond = dict(num_classes=num_classes, cond_channels=cond_channels, position_size=position_size)
        self.v_cond = Conditioning(two_p, **cond)
        self.h_cond = Conditioning(two_p, **cond)

    def forward(
        self,
        v: Tensor,
        h: Tensor,
        *,
        labels: Tensor | None = None,
        cond_map: Tensor | None = None,
        window: Window | None = None,
    ) -> tuple[Tensor, Tensor]:
        v_pre = self.v_conv(v)
        h_pre = self.h_conv(h) + self.link(shift_down(v_pre))
        v_new = gate(add_bias(v_pre, self.v_cond(labels, cond_map, window)), self.groups)
        h_new = self.h_out(gate(add_bias(h_pre, self.h_cond(labels, cond_map, window)), self.groups))
        return v_new, (h + h_new if self.residual else h_new)


class GatedPixelCNN(nn.Module):
    """x: (B, in_channels, H, W) -> per-pixel distribution parameters (B, out_channels, H, W).

    `layers` gated layers (the first type A with `first_kernel`, the rest type B with `kernel`), then
    ReLU -> 1x1 -> ReLU -> 1x1 on the horizontal stack. Same causality as PixelCNN, without the blind spot.
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
        if hidden % data_channels or layers < 1:
            raise GenvisionError(
                f"GatedPixelCNN: need hidden % data_channels == 0 and layers >= 1, got {hidden}, {layers}"
            )
        common = dict(
            data_channels=data_channels,
            num_classes=num_classes,
            cond_channels=cond_channels,
            position_size=position_size,
        )
        self.stack = nn.ModuleList(
            [GatedLayer(in_channels, hidden, kernel=first_kernel, mask_type="A", **common)]
            + [GatedLayer(hidden, hidden, kernel=kernel, mask_type="B", **common) for _ in range(layers - 1)]
        )
        self.head = nn.Sequential(
            nn.ReLU(),
            MaskedConv2d(hidden, hidden, 1, mask_type="B", data_channels=data_channels),
            nn.ReLU(),
            MaskedConv2d(hidden, out_channels, 1, mask_type="B", data_channels=data_channels),
        )

    @property
    def receptive_field(self) -> ReceptiveField:
        reach = sum(layer.v_conv.reach for layer in self.stack)
        return ReceptiveField(up=reach + 1, left=reach, right=reach)  # +1: the down-shift

    def forward(
        self,
        x: Tensor,
        *,
        labels: Tensor | None = None,
        cond_map: Tensor | None = None,
        window: Window | None = None,
    ) -> Tensor:
        """window: the (rows, cols) of the image that x is a crop of (window sampler); None: x is the image."""
        v = h = x
        for layer in self.stack:
            v, h = layer(v, h, labels=labels, cond_map=cond_map, window=window)
        return self.head(h)

    def stepper(
        self, x: Tensor, *, labels: Tensor | None = None, cond_map: Tensor | None = None
    ) -> GatedStepper:
        """Cached one-position evaluation for sampling, primed with a full pass over x."""
        return GatedStepper(self, x, labels=labels, cond_map=cond_map)


def _row(bias: Tensor | None, r: int) -> Tensor | float:
    if bias is None:
        return 0.0
    return bias if bias.shape[-2] == 1 else bias[:, :, r : r + 1]


class GatedStepper:
    """params(i, j) = GatedPixelCNN(x)[:, :, i, j] with per-layer caches (Ramachandran et al. 2017).

    The vertical stack of row r depends on all of row r, so it is computed a whole row at a time, once the
    sampler has moved on to row r + 1; the horizontal stack is computed at one position per layer. Call in
    raster order from any start pixel (earlier positions come from the priming pass over x).
    """

    def __init__(
        self, net: GatedPixelCNN, x: Tensor, *, labels: Tensor | None, cond_map: Tensor | None
    ) -> None:
        self.net = net
        stack = list(net.stack)
        io = capture_io(
            net,
            [m for layer in stack for m in (layer.v_conv, layer.h_conv, layer.link)],
            x,
            labels=labels,
            cond_map=cond_map,
        )
        self.v_pad = [F.pad(io[lay.v_conv][0], (lay.v_conv.reach,) * 3 + (0,)) for lay in stack]
        self.h_pad = [F.pad(io[lay.h_conv][0], (lay.h_conv.reach, 0, 0, 0)) for lay in stack]
        self.link = [io[lay.link][1].clone() for lay in stack]
        self.v_cond = [lay.v_cond(labels, cond_map) for lay in stack]
        self.h_cond = [lay.h_cond(labels, cond_map) for lay in stack]
        self.h_weights = [
            (lay.h_conv.step_weight(), lay.h_conv.bias, lay.h_out.step_weight(), lay.h_out.bias)
            for lay in stack
        ]
        self.head = [(m.step_weight(), m.bias) for m in net.head if isinstance(m, MaskedConv2d)]
        self.rows_done = -1  # vertical stack rows recomputed from the sampled image so far

    def _vertical_row(self, x: Tensor, r: int) -> None:
        """Vertical features of row r (final once row r is sampled) -> link rows r + 1 of every layer."""
        stack, width, height = self.net.stack, x.shape[-1], x.shape[-2]
        reach0 = stack[0].v_conv.reach
        self.v_pad[0][:, :, r + reach0, reach0 : reach0 + width] = x[:, :, r]
        for index, layer in enumerate(stack):
            reach = layer.v_conv.reach
            pre = F.conv2d(self.v_pad[index][:, :, r : r + reach + 1], layer.v_conv.weight, layer.v_conv.bias)
            if r + 1 < height:
                self.link[index][:, :, r + 1] = layer.link(pre)[:, :, 0]
            if index + 1 < len(stack):
                nxt = stack[index + 1].v_conv.reach
                out = gate(pre + _row(self.v_cond[index], r), layer.groups)
                self.v_pad[index + 1][:, :, r + nxt, nxt : nxt + width] = out[:, :, 0]

    def __call__(self, x: Tensor, i: int, j: int) -> Tensor:
        """Parameters at pixel (i, j): (n, out_channels)."""
        while self.rows_done < i - 1:
            self.rows_done += 1
            self._vertical_row(x, self.rows_done)
        stack = self.net.stack
        reach0 = stack[0].h_conv.reach
        self.h_pad[0][:, :, i, reach0 : reach0 + x.shape[-1]] = x[:, :, i]
        for index, (layer, (w_h, b_h, w_o, b_o)) in enumerate(zip(stack, self.h_weights, strict=True)):
            reach = layer.h_conv.reach
            pre = conv_at(self.h_pad[index], w_h, b_h, i, j, 1, reach + 1)
            pre = pre + self.link[index][:, :, i, j] + bias_at(self.h_cond[index], i, j)
            h = F.linear(gate(pre, layer.groups), w_o, b_o)
            if layer.residual:
                h = h + self.h_pad[index][:, :, i, j + reach]
            if index + 1 < len(stack):
                nxt = stack[index + 1].h_conv.reach
                self.h_pad[index + 1][:, :, i, j + nxt] = h
        for w, b in self.head:
            h = F.linear(F.relu(h), w, b)
        return h
