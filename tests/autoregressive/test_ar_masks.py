"""Golden masks (hand-written) and the zero gradient of masked weights."""

import pytest
import torch

from genvision.autoregressive.masked_conv import (
    HorizontalConv2d,
    MaskedConv2d,
    VerticalConv2d,
    causal_mask,
    centre_mask,
)
from genvision.errors import GenvisionError


def test_spatial_masks_3x3_single_channel():
    a = causal_mask(1, 1, 3, mask_type="A")[0, 0]
    b = causal_mask(1, 1, 3, mask_type="B")[0, 0]
    assert torch.equal(a, torch.tensor([[1.0, 1, 1], [1, 0, 0], [0, 0, 0]]))
    assert torch.equal(b, torch.tensor([[1.0, 1, 1], [1, 1, 0], [0, 0, 0]]))


def test_spatial_mask_5x5_type_b():
    expected = torch.tensor(
        [[1.0, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
    )
    assert torch.equal(causal_mask(2, 3, 5, mask_type="B")[1, 2], expected)


def test_rgb_centre_masks():
    # 3 input channels (R, G, B) -> 6 output channels (2 per colour).
    a = centre_mask(6, 3, mask_type="A", data_channels=3)
    b = centre_mask(6, 3, mask_type="B", data_channels=3)
    assert torch.equal(a, torch.tensor([[0.0, 0, 0], [0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0]]))
    assert torch.equal(b, torch.tensor([[1.0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]]))
    # the rest of the kernel (pixels before the centre) is open to every colour
    full = causal_mask(6, 3, 3, mask_type="A", data_channels=3)
    assert full[:, :, 0].eq(1).all() and full[:, :, 1, 0].eq(1).all() and full[:, :, 2].eq(0).all()


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_masked_weights_get_zero_gradient(mask_type):
    torch.manual_seed(0)
    conv = MaskedConv2d(6, 9, 5, mask_type=mask_type, data_channels=3)
    conv(torch.randn(2, 6, 7, 7)).square().sum().backward()
    masked = conv.mask == 0
    assert masked.any() and (~masked).any()
    assert conv.weight.grad[masked].abs().max() == 0
    assert conv.weight.grad[~masked].abs().min() > 0
    assert conv.mask.grad is None and not conv.mask.requires_grad  # a buffer, not a parameter
    assert "mask" in dict(conv.named_buffers())


def test_horizontal_conv_mask_gradient_and_shapes():
    torch.manual_seed(0)
    conv = HorizontalConv2d(3, 6, 7, mask_type="A", data_channels=3)
    assert conv.weight.shape == (6, 3, 1, 4)
    out = conv(torch.randn(2, 3, 5, 5))
    assert out.shape == (2, 6, 5, 5)
    out.sum().backward()
    assert conv.weight.grad[conv.mask == 0].abs().max() == 0
    assert VerticalConv2d(3, 4, 3)(torch.randn(1, 3, 5, 6)).shape == (1, 4, 5, 6)


def test_bad_arguments_raise():
    with pytest.raises(GenvisionError, match="odd"):
        MaskedConv2d(1, 4, 4, mask_type="A")
    with pytest.raises(GenvisionError, match="mask_type"):
        MaskedConv2d(1, 4, 3, mask_type="C")
    with pytest.raises(GenvisionError, match="colour groups"):
        MaskedConv2d(3, 4, 3, mask_type="A", data_channels=3)
