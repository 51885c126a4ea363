"""Causality by Jacobian (float64, exact zeros): an output never depends on later pixels, nor on colours
>= its own of the current pixel; PixelCNN's blind spot is exactly the Minkowski-sum prediction; the Gated
PixelCNN has none."""

import pytest
import torch

from genvision.autoregressive import GatedPixelCNN, PixelCNN


def build(arch, *, in_channels, data_channels, hidden, layers, out_per_channel=2):
    torch.manual_seed(0)
    net_cls = PixelCNN if arch == "pixelcnn" else GatedPixelCNN
    net = net_cls(
        in_channels,
        out_per_channel * data_channels,
        hidden=hidden,
        layers=layers,
        data_channels=data_channels,
    )
    return net.double()


def dependence(net, x, i, j, out_slice):
    """|d out[:, out_slice, i, j] / d x| summed over the batch: (C_in, H, W)."""
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(net(x)[:, out_slice, i, j].sum(), x)
    return grad.abs().sum(0)


def raster_before(height, width, i, j):
    """(H, W) bool: pixels strictly before (i, j) in raster order."""
    index = torch.arange(height * width).view(height, width)
    return index < i * width + j


def dependence_every_pixel(net, size, channels, out_slice, repeats=8):
    """(H, W, C_in, H, W): |d out[out_slice] at pixel p / d x| for every p in one backward pass. Batch
    element b = (p, r) holds an independent random image and back-propagates only its pixel p."""
    n = size * size
    x = torch.randn(n * repeats, channels, size, size, dtype=torch.float64, requires_grad=True)
    out = net(x)[:, out_slice].sum(1)  # (B, H, W)
    pick = torch.eye(n, dtype=torch.float64).repeat_interleave(repeats, 0).view(-1, size, size)
    (grad,) = torch.autograd.grad((out * pick).sum(), x)
    return grad.abs().view(n, repeats, channels, size, size).sum(1).view(size, size, channels, size, size)


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
@pytest.mark.parametrize("channels", [1, 3])
def test_no_dependence_on_current_or_later_pixels(arch, channels):
    size, out_per = 6, 2
    net = build(
        arch,
        in_channels=channels,
        data_channels=channels,
        hidden=12 * channels,
        layers=3,
        out_per_channel=out_per,
    )
    for g in range(channels):  # output colour group g (R, G, B)
        deps = dependence_every_pixel(net, size, channels, slice(g * out_per, (g + 1) * out_per))
        for i in range(size):
            for j in range(size):
                dep, before = deps[i, j], raster_before(size, size, i, j)
                later = ~before
                later[i, j] = False
                assert dep[:, later].sum() == 0, (i, j, g)  # no later pixel, any colour
                assert dep[g:, i, j].abs().max() == 0, (
                    i,
                    j,
                    g,
                )  # current pixel: colours >= g unseen (mask A)
                if g > 0:
                    assert (dep[:g, i, j] > 0).all(), (i, j, g)  # G sees R; B sees R and G
                if (i, j) != (0, 0):
                    assert dep[:, before].sum() > 0, (i, j, g)  # it does see the past


def minkowski(a, b):
    return {(r1 + r2, c1 + c2) for r1, c1 in a for r2, c2 in b}


def pixelcnn_field(first_kernel, kernel, layers):
    """Offsets (dr, dc) an output reaches: the 7x7 type A support, then one type B 3x3 support per block."""
    h, k = first_kernel // 2, kernel // 2
    field = {(dr, dc) for dr in range(-h, 0) for dc in range(-h, h + 1)} | {(0, dc) for dc in range(-h, 0)}
    step = {(dr, dc) for dr in range(-k, 0) for dc in range(-k, k + 1)} | {(0, dc) for dc in range(-k, 1)}
    for _ in range(layers):
        field = minkowski(field, step)
    return field


def test_pixelcnn_blind_spot_is_pinned():
    size, (i, j), layers = 15, (7, 7), 3
    net = build("pixelcnn", in_channels=1, data_channels=1, hidden=16, layers=layers)
    dep = dependence(net, torch.randn(8, 1, size, size, dtype=torch.float64), i, j, slice(None))[0]
    seen = {(r - i, c - j) for r, c in (dep > 0).nonzero().tolist()}
    expected = pixelcnn_field(7, 3, layers)
    assert seen == expected
    # The bounding box reaches 6 rows up and 6 columns either side, yet some earlier pixels in it are blind:
    box = {(dr, dc) for dr in range(-6, 1) for dc in range(-6, 7) if (dr, dc) < (0, 0)}
    blind = box - seen
    assert {(-1, 4), (-1, 5), (-1, 6), (-2, 5), (-2, 6), (-3, 6)} <= blind
    assert all(dc >= 4 for _, dc in blind)  # the blind spot lies up-right of the pixel
    assert net.receptive_field == (6, 6, 6)


def test_gated_pixelcnn_has_no_blind_spot():
    size, (i, j) = 8, (4, 2)
    net = build("gated", in_channels=1, data_channels=1, hidden=8, layers=4)  # reach 6 up/left/right, 7 up
    assert net.receptive_field == (7, 6, 6)
    dep = dependence(net, torch.randn(8, 1, size, size, dtype=torch.float64), i, j, slice(None))[0]
    before = raster_before(size, size, i, j)
    assert (dep[before] > 0).all()  # every earlier pixel (the field covers the image) is seen
    assert dep[~before].abs().max() == 0
    # Same geometry (7x7 first layer + 3 more 3x3 layers) in the plain PixelCNN misses pixels up-right.
    plain = build("pixelcnn", in_channels=1, data_channels=1, hidden=8, layers=3)
    dep_plain = dependence(plain, torch.randn(8, 1, size, size, dtype=torch.float64), i, j, slice(None))[0]
    assert (dep_plain[before] == 0).sum() > 0


def test_receptive_field_figure(tmp_path):
    from genvision.autoregressive.receptive_field import plot_receptive_field, receptive_field_maps

    maps = receptive_field_maps(image_size=15)
    (plain, plain_field), (gated, gated_field) = maps.values()
    assert (plain > 0).sum() == len(pixelcnn_field(7, 3, 3))  # 78 earlier pixels seen
    assert (gated > 0).sum() == 7 * 13 + 6  # the full rectangle above and six to the left
    assert plot_receptive_field(tmp_path / "rf.png").stat().st_size > 1000
