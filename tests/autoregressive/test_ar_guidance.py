"""Classifier-free guidance for PixelCNN: label dropout trains a null label; guided sampling mixes the
conditional and null-label logits, (1 + w) l_c - w l_u, identically for every sampling method."""

import pytest
import torch

from genvision.autoregressive import PixelCNNConfig, PixelCNNModel
from genvision.errors import GenvisionError
from genvision.nn.classifier_free import classifier_free_mix, drop_labels


def tiny(arch="gated", output="bernoulli", **kw):
    torch.manual_seed(0)
    cfg = PixelCNNConfig(arch=arch, image_size=6, hidden=8, layers=2, first_kernel=3, output=output, levels=4,
                         num_classes=3, **kw)
    model = PixelCNNModel(cfg).eval()
    with torch.no_grad():  # make the label matter: a fresh embedding is small next to the pixel terms
        for p in model.parameters():
            p.mul_(3.0)
    return model


def test_mixed_logits_are_bayes_sharpened_conditional():
    """softmax((1+w) log p(x|y) - w log p(x)) = p(x) p(y|x)^(1+w) / Z for any joint p(x, y) (CFG Sec. 3.2)."""
    torch.manual_seed(0)
    joint = torch.rand(5, 3)
    joint /= joint.sum()  # p(x, y): 5 values of x, 3 classes
    p_x, p_y = joint.sum(1), joint.sum(0)
    y, w = 1, 2.5
    guided = torch.softmax(classifier_free_mix((joint[:, y] / p_y[y]).log(), p_x.log(), w), 0)
    target = p_x * (joint[:, y] / p_x) ** (1 + w)
    torch.testing.assert_close(guided, target / target.sum())


def test_drop_labels_rate_and_identity():
    labels = torch.randint(0, 10, (20000,))
    torch.manual_seed(0)
    dropped = drop_labels(labels, 0.3, 10)
    rate = (dropped == 10).float().mean().item()
    assert abs(rate - 0.3) < 0.015
    kept = dropped != 10
    assert torch.equal(dropped[kept], labels[kept])
    assert torch.equal(drop_labels(labels, 0.0, 10), labels)


def test_label_dropout_trains_the_null_embedding():
    model = tiny(p_uncond=0.5).train()
    batch = {"image": (torch.rand(16, 1, 6, 6) > 0.5).float() * 2 - 1, "label": torch.randint(0, 3, (16,))}
    torch.manual_seed(1)
    model.loss(batch)["loss"].backward()
    # the horizontal stack feeds the output, so every layer's h-conditioning sees the null label's loss
    null_rows = [layer.h_cond.label_bias.weight.grad[3] for layer in model.net.stack]
    assert null_rows and all(row.abs().sum() > 0 for row in null_rows)
    model.eval()  # validation: the conditional NLL, no label dropped
    torch.testing.assert_close(model.loss(batch)["loss"], model.nll(batch["image"], labels=batch["label"]).mean())
    plain = tiny()  # without dropout there is no null row at all
    assert all(m.label_bias.weight.shape[0] == 3 for m in plain.modules() if getattr(m, "label_bias", None))


@pytest.mark.parametrize("arch,output", [("gated", "bernoulli"), ("pixelcnn", "bernoulli"), ("gated", "categorical")])
def test_guided_params_are_the_mix_of_two_forwards(arch, output):
    model = tiny(arch, output, p_uncond=0.1)
    v = model.values(torch.rand(2, 1, 6, 6) * 2 - 1)
    labels = torch.tensor([0, 2])
    x = model.to_input(v)
    cond = model.params(v, labels=labels)
    uncond = model.params(v, labels=torch.full_like(labels, model.null_label))
    for method in ("fast", "window", "naive"):
        params_at = model._guided_params_at(method, x.clone(), labels, None, 2.0)
        for i, j in [(0, 0), (2, 3), (5, 5)]:
            torch.testing.assert_close(params_at(x, i, j), classifier_free_mix(cond, uncond, 2.0)[:, :, i, j])


@pytest.mark.parametrize("arch,output", [("gated", "bernoulli"), ("pixelcnn", "categorical")])
def test_guided_samples_identical_across_methods(arch, output):
    model = tiny(arch, output, p_uncond=0.1)
    labels = torch.tensor([0, 1, 2])
    outs = [model.sample(3, labels=labels, generator=torch.Generator().manual_seed(4), method=m, guidance_weight=3.0)
            for m in ("fast", "window", "naive")]
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], outs[2])
    plain = model.sample(3, labels=labels, generator=torch.Generator().manual_seed(4))
    assert torch.equal(plain, model.sample(3, labels=labels, generator=torch.Generator().manual_seed(4),
                                           guidance_weight=0.0))
    assert not torch.equal(plain, outs[0])  # guidance changes the draws


def test_guidance_needs_label_dropout_and_logits():
    with pytest.raises(GenvisionError, match="p_uncond"):
        tiny().sample(2, labels=torch.tensor([0, 1]), guidance_weight=1.0)
    with pytest.raises(GenvisionError, match="num_classes"):
        PixelCNNConfig(p_uncond=0.1)
    mixture = tiny(output="logistic_mixture", p_uncond=0.1)
    with pytest.raises(GenvisionError, match="logistic_mixture"):
        mixture.sample(2, labels=torch.tensor([0, 1]), guidance_weight=1.0)


def test_plausibility_rules_out_what_the_conditional_finds_implausible():
    import math

    from genvision.autoregressive.distributions import Bernoulli, Categorical

    alpha = 0.01
    cond = torch.tensor([[-6.0], [-1.0], [0.0], [5.0]])  # p_c(on) = 0.0025, 0.27, 0.5, 0.993
    guided = torch.tensor([[2.0], [-3.0], [1.0], [-2.0]])
    out = Bernoulli(1).restrict(guided, cond, alpha)
    # on ruled out where p_c(on) < alpha p_c(off); off where p_c(off) < alpha p_c(on); else the guided logit
    assert out[0, 0] == -math.inf and out[3, 0] == math.inf
    assert torch.equal(out[1:3], guided[1:3])

    cat = Categorical(1, 3)
    cond3 = torch.log(torch.tensor([[0.7, 0.295, 0.005]]))
    guided3 = torch.tensor([[0.0, 1.0, 5.0]])
    out3 = cat.restrict(guided3, cond3, alpha)  # 0.005 < 0.01 * 0.7: level 2 ruled out
    assert out3[0, 2] == -math.inf and torch.equal(out3[0, :2], guided3[0, :2])
