"""The position bias (issue 17): a causal stack without it cannot tell rows apart below the reach of the top
border, which let the 28x28 model run strokes into the always-empty bottom rows. With it, every layer knows
its row and column, causality is unchanged, and the three samplers still agree exactly."""

import pytest
import torch

from genvision.autoregressive import GatedPixelCNN, PixelCNN, PixelCNNConfig, PixelCNNModel


def randomise_position(module: torch.nn.Module) -> None:
    """The biases start at zero (the position-blind model); give them values so the tests can see them."""
    g = torch.Generator().manual_seed(1)
    for name, p in module.named_parameters():
        if name.endswith(("row_bias", "col_bias")):
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))


@pytest.mark.parametrize("net_cls", [PixelCNN, GatedPixelCNN])
@pytest.mark.parametrize("position", [False, True])
def test_rows_far_from_the_top_are_told_apart_only_with_position(net_cls, position):
    # reach: a 3x3 first layer + one layer -> about 2-3 rows up; rows 10 and 14 see only blank input
    torch.manual_seed(0)
    size = 16
    net = net_cls(1, 2, hidden=8, layers=1, first_kernel=3, position_size=size if position else 0).double()
    randomise_position(net)
    blank = -torch.ones(1, 1, size, size, dtype=torch.float64)
    with torch.no_grad():
        out = net(blank)[0, :, :, size // 2]  # (2, H): one column, far from the left/right borders
    same = torch.allclose(out[:, 10], out[:, 14])
    assert same != position  # blind: identical outputs in rows 10 and 14; with position: different


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
def test_position_bias_keeps_causality(arch):
    torch.manual_seed(0)
    size = 6
    net_cls = PixelCNN if arch == "pixelcnn" else GatedPixelCNN
    net = net_cls(1, 2, hidden=8, layers=2, first_kernel=3, position_size=size).double()
    randomise_position(net)
    x = torch.randn(4, 1, size, size, dtype=torch.float64, requires_grad=True)
    out = net(x)
    order = torch.arange(size * size).view(size, size)
    for i, j in [(0, 0), (2, 3), (5, 5), (4, 0)]:
        (grad,) = torch.autograd.grad(out[:, :, i, j].sum(), x, retain_graph=True)
        later = order >= i * size + j  # the pixel itself and everything after it in raster order
        assert grad.abs().sum(0)[0][later].max() == 0


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
def test_stepper_and_samplers_agree_with_position_bias(arch):
    torch.manual_seed(0)
    cfg = PixelCNNConfig(arch=arch, image_size=7, hidden=8, layers=2, first_kernel=3, num_classes=3,
                         p_uncond=0.1, position_bias=True)
    model = PixelCNNModel(cfg).eval()
    randomise_position(model)
    labels = torch.tensor([0, 2, 3])  # 3 = the null label
    x = model.to_input(model.values(torch.rand(3, 1, 7, 7) * 2 - 1))
    with torch.no_grad():
        full = model.net(x, labels=labels)
        step = model.net.stepper(torch.zeros_like(x), labels=labels)
        for i in range(7):
            for j in range(7):
                torch.testing.assert_close(step(x, i, j), full[:, :, i, j], atol=1e-5, rtol=1e-5)
    samples = {}
    for method in ("fast", "window", "naive"):
        g = torch.Generator().manual_seed(5)
        samples[method] = model.sample(3, labels=labels[:3].clamp(max=2), generator=g, method=method,
                                       guidance_weight=1.0)
    assert torch.equal(samples["fast"], samples["naive"])
    assert torch.equal(samples["window"], samples["naive"])


def test_position_bias_is_off_by_default_so_old_configs_load():
    model = PixelCNNModel(PixelCNNConfig(image_size=6, hidden=8, layers=1))
    assert not any(name.endswith(("row_bias", "col_bias")) for name, _ in model.named_parameters())
    on = PixelCNNModel(PixelCNNConfig(image_size=6, hidden=8, layers=1, position_bias=True))
    missing = set(on.state_dict()) - set(model.state_dict())
    assert missing and all(k.endswith(("row_bias", "col_bias")) for k in missing)
