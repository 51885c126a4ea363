"""PixelCNNModel: exact log-likelihood by hand, loss/bits-per-dim, code maps, conditioning, errors, and a
short training on binarised 8x8 digits that must lower the loss."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from genvision.autoregressive import MaskedConv2d, PixelCNNConfig, PixelCNNModel
from genvision.autoregressive.masked_conv import HorizontalConv2d
from genvision.data.dataset import ImageDataset
from genvision.errors import GenvisionError


def model_of(**kw):
    torch.manual_seed(0)
    base = dict(image_size=6, hidden=8, layers=2)
    return PixelCNNModel(PixelCNNConfig(**{**base, **kw}))


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
def test_bernoulli_log_prob_equals_hand_computation(arch):
    model = model_of(arch=arch)
    x = torch.rand(3, 1, 6, 6) * 2 - 1  # grey values: binarised at 0 by the model
    logits = model.net(torch.where(x > 0, 1.0, -1.0)).detach().double().numpy()
    b = (x > 0).double().numpy()
    p = 1 / (1 + np.exp(-logits))
    expected = (b * np.log(p) + (1 - b) * np.log(1 - p)).sum((1, 2, 3))
    np.testing.assert_allclose(model.log_prob(x).detach().numpy(), expected, rtol=1e-5)
    out = model.loss({"image": x})
    assert out["loss"].item() == pytest.approx(-expected.mean(), rel=1e-5)
    assert out["bpd"].item() == pytest.approx(-expected.mean() / (36 * math.log(2)), rel=1e-5)


def test_indices_and_images_agree_for_categorical():
    model = model_of(output="categorical", levels=5)
    idx = torch.randint(0, 5, (2, 6, 6))
    image = idx[:, None].float() / 4 * 2 - 1
    torch.testing.assert_close(model.log_prob({"indices": idx}), model.log_prob(image))
    torch.testing.assert_close(model.log_prob(idx), model.log_prob({"image": image}))
    assert model.loss({"indices": idx})["loss"].item() == pytest.approx(-model.log_prob(idx).mean().item())


def test_uniform_categorical_has_log_levels_bits():
    model = model_of(output="categorical", levels=16, image_channels=3, hidden=12)
    with torch.no_grad():
        model.net.head[-1].weight.zero_()
        model.net.head[-1].bias.zero_()
    out = model.loss({"image": torch.rand(2, 3, 6, 6) * 2 - 1})
    assert out["bpd"].item() == pytest.approx(4.0, rel=1e-6)  # log2(16) bits per dimension


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
def test_class_conditioning_changes_outputs(arch):
    model = model_of(arch=arch, num_classes=3)
    x = torch.rand(2, 1, 6, 6) * 2 - 1
    lp0 = model.log_prob(x, torch.tensor([0, 0]))
    lp1 = model.log_prob({"image": x, "label": torch.tensor([1, 1])})
    assert (lp0 - lp1).abs().min() > 0
    with torch.no_grad():
        for m in model.modules():  # make the class signal strong enough to flip sampled pixels
            if isinstance(m, torch.nn.Embedding):
                m.weight.mul_(10)
    s0 = model.sample(
        16, labels=torch.zeros(16, dtype=torch.long), generator=torch.Generator().manual_seed(0)
    )
    s1 = model.sample(16, labels=torch.full((16,), 2), generator=torch.Generator().manual_seed(0))
    assert not torch.equal(s0, s1)


def test_cond_map_changes_outputs():
    model = model_of(arch="gated", output="categorical", levels=4, cond_channels=3)
    idx = torch.randint(0, 4, (2, 6, 6))
    a = model.log_prob({"indices": idx, "cond_map": torch.zeros(2, 3, 6, 6)})
    b = model.log_prob(idx, cond_map=torch.randn(2, 3, 6, 6))
    assert (a - b).abs().min() > 0


def test_all_masked_weights_get_zero_gradient_through_the_loss():
    for arch, channels in [("pixelcnn", 3), ("gated", 3)]:
        model = model_of(arch=arch, image_channels=channels, output="categorical", levels=4, hidden=12)
        model.loss({"image": torch.rand(2, channels, 6, 6) * 2 - 1})["loss"].backward()
        convs = [m for m in model.modules() if isinstance(m, MaskedConv2d | HorizontalConv2d)]
        assert len(convs) > 4
        for conv in convs:
            assert conv.weight.grad[conv.mask == 0].abs().sum() == 0


def test_user_errors_are_one_line_genvision_errors():
    with pytest.raises(GenvisionError, match="arch"):
        PixelCNNConfig(arch="transformer")
    with pytest.raises(GenvisionError, match="input_embedding"):
        PixelCNNConfig(output="bernoulli", input_embedding=4)
    model = model_of(num_classes=2)
    with pytest.raises(GenvisionError, match="image must be"):
        model.log_prob(torch.zeros(2, 1, 5, 5), torch.tensor([0, 1]))
    with pytest.raises(GenvisionError, match="labels"):
        model.log_prob(torch.zeros(2, 1, 6, 6))
    with pytest.raises(GenvisionError, match="labels"):
        model.sample(2, labels=torch.tensor([0, 2]))
    with pytest.raises(GenvisionError, match="indices need"):
        model.log_prob({"indices": torch.zeros(2, 6, 6, dtype=torch.long)})
    with pytest.raises(GenvisionError, match="method"):
        model.sample(1, labels=torch.tensor([0]), method="magic")
    with pytest.raises(GenvisionError, match="indices must lie"):
        model_of(output="categorical", levels=4).log_prob(torch.full((1, 6, 6), 4))
    with pytest.raises(GenvisionError, match="multiple"):
        model_of(image_channels=3, hidden=8)


def binarised_digits(n=256):
    digits = load_digits()  # 8x8 images in [0, 16], bundled with scikit-learn
    on = torch.tensor(digits.images[:n] > 7)[:, None]
    data = ImageDataset(on.to(torch.uint8) * 255, torch.tensor(digits.target[:n]), 10, "digits-binary")
    return data.float_images(), data.labels  # (n, 1, 8, 8) in {-1, 1}, (n,) int64


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
def test_smoke_training_lowers_the_loss(arch):
    torch.manual_seed(0)
    images, labels = binarised_digits()
    model = PixelCNNModel(PixelCNNConfig(arch=arch, image_size=8, hidden=16, layers=2, num_classes=10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(40):
        idx = torch.randint(0, len(images), (32,), generator=g)
        loss = model.loss({"image": images[idx], "label": labels[idx]})["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    first, last = np.mean(losses[:3]), np.mean(losses[-5:])
    assert last < 0.7 * first, (first, last)  # from ~44 nats (random) to well below
    assert model.loss({"image": images, "label": labels})["bpd"].item() < 0.6
