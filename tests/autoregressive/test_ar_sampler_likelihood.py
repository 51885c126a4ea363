"""Samples match the likelihood (issue 17).

- Exact: on 3x3 binary images every one of the 512 images has a computable probability, so the sampler's
  empirical statistics must match the model's own: each pixel's marginal P(x_ij = 1), and the mean NLL of the
  samples, which must equal the model's entropy H(p) = -sum_x p(x) log p(x) (E_{x~p}[-log p(x)] = H(p)).
- The sampler's network input for a drawn pixel is the training input for that pixel value: one transform
  (`to_input(values(image))`), checked for every output distribution, through the data's own batch transform.
"""

import itertools

import pytest
import torch

from genvision.autoregressive import PixelCNNConfig, PixelCNNModel
from genvision.data.config import DataConfig


def sharp_model(arch: str, *, position_bias: bool = True) -> PixelCNNModel:
    """A tiny random model with strong pixel dependencies (weights scaled up) on 3x3 binary images."""
    torch.manual_seed(0)
    model = PixelCNNModel(PixelCNNConfig(arch=arch, image_size=3, hidden=8, layers=2, first_kernel=3,
                                         position_bias=position_bias)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.7)
    return model


def all_binary_images(size: int) -> torch.Tensor:
    """Every binary image of size x size as (2^(size^2), 1, size, size) in {-1, 1}."""
    bits = torch.tensor(list(itertools.product([0.0, 1.0], repeat=size * size)))
    return (bits * 2 - 1).view(-1, 1, size, size)


@pytest.mark.parametrize("arch", ["pixelcnn", "gated"])
def test_sample_statistics_equal_the_exact_distribution(arch):
    model = sharp_model(arch)
    images = all_binary_images(3)
    with torch.no_grad():
        log_p = model.log_prob(images).double()  # (512,)
    p = log_p.exp()
    torch.testing.assert_close(p.sum(), torch.tensor(1.0, dtype=torch.float64), atol=1e-5, rtol=0)
    entropy = -(p * log_p).sum()

    n = 20000
    samples = model.sample(n, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        nll = -model.log_prob(samples).double()
    # mean NLL of the samples = H(p), within 5 standard errors
    assert abs(nll.mean() - entropy) < 5 * nll.std() / n**0.5
    # every pixel's marginal P(x_ij = 1), within 5 standard errors
    on = (images > 0).double().flatten(1)  # (512, 9)
    exact = (p[:, None] * on).sum(0)
    empirical = (samples > 0).double().flatten(1).mean(0)
    se = (exact * (1 - exact) / n).sqrt()
    assert ((empirical - exact).abs() <= 5 * se + 1e-9).all(), (empirical, exact)
    # and the most likely images come out about as often as their probability says
    index = ((samples > 0).long().flatten(1) * (2 ** torch.arange(8, -1, -1))).sum(1)
    freq = torch.bincount(index, minlength=512).double() / n
    top = p.argsort(descending=True)[:5]
    assert ((freq[top] - p[top]).abs() <= 5 * (p[top] * (1 - p[top]) / n).sqrt()).all()


@pytest.mark.parametrize(
    "output,data",
    [
        ("bernoulli", DataConfig(binarize="dynamic")),
        ("bernoulli", DataConfig(binarize="static")),
        ("categorical", DataConfig(levels=4)),
        ("logistic_mixture", DataConfig(levels=4)),
    ],
)
def test_sampler_feeds_back_the_training_input(output, data):
    torch.manual_seed(0)
    cfg = PixelCNNConfig(arch="gated", image_size=5, hidden=8, layers=2, first_kernel=3, output=output, levels=4,
                         position_bias=True)
    model = PixelCNNModel(cfg).eval()
    seen: list[torch.Tensor] = []
    hook = model.net.register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone()))
    try:
        sample = model.sample(3, generator=torch.Generator().manual_seed(1), method="naive")
        sampler_input = seen[-1]  # the last pixel's call: every pixel but the last one is drawn
        seen.clear()
        batch = {"image": data.batch_transform()(sample, torch.Generator().manual_seed(2))}
        with torch.no_grad():
            model.loss(batch)
        training_input = seen[-1]
    finally:
        hook.remove()
    drawn = torch.ones(5, 5, dtype=torch.bool)
    drawn[-1, -1] = False
    assert torch.equal(sampler_input[..., drawn], training_input[..., drawn])


def test_completion_nll_counts_only_the_hidden_rows():
    from genvision.autoregressive.completion import complete_images, completion_nll

    model = sharp_model("gated")
    x = torch.where(torch.rand(2, 1, 3, 3, generator=torch.Generator().manual_seed(0)) > 0.5, 1.0, -1.0)
    done = complete_images(model, x, labels=None, observed_rows=1, n_samples=4, seed=0)
    assert done.shape == (2, 4, 1, 3, 3) and torch.equal(done[:, :, :, :1], x[:, None, :, :1].expand(2, 4, 1, 1, 3))
    nll = completion_nll(model, x, done, labels=None, observed_rows=1)
    with torch.no_grad():
        per_pixel = -model.log_prob_pixels(x)  # (B, H, W), sums to -log_prob
        torch.testing.assert_close(per_pixel.sum((1, 2)), -model.log_prob(x))
        by_hand = -model.log_prob_pixels(done.flatten(0, 1))[:, 1:].mean()
    assert nll.pixels == 6
    assert nll.originals == pytest.approx(float(per_pixel[:, 1:].mean()), rel=1e-6)
    assert nll.completions == pytest.approx(float(by_hand), rel=1e-6)
