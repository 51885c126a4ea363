"""PixelCNN coding: lossless round trips, stream length vs the model's exact NLL, determinism, and the shared
loop (sampling through fill_with is the old sampler)."""

import numpy as np
import pytest
import torch

from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel
from genvision.autoregressive.sampling import Site
from genvision.compress import CompressOptions, compress, decompress, pixels
from genvision.compress.container import pack, unpack
from genvision.errors import GenvisionError


def tiny(output: str, **kw) -> PixelCNNModel:
    torch.manual_seed(0)
    cfg = PixelCNNConfig(arch=kw.pop("arch", "gated"), image_size=kw.pop("size", 8), hidden=16, layers=2,
                         first_kernel=3, output=output, **kw)
    return PixelCNNModel(cfg).eval()


def random_images(n: int, size: int, *, binary: bool = False, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, size, size, 1), dtype=np.uint8)
    return (images >= 128).astype(np.uint8) * 255 if binary else images


@pytest.mark.parametrize("output, arch", [("categorical", "gated"), ("categorical", "pixelcnn"),
                                          ("bernoulli", "gated"), ("logistic_mixture", "pixelcnn")])
def test_lossless_round_trip_and_length_within_one_percent_of_the_nll(output, arch):
    model = tiny(output, arch=arch)
    images = random_images(5, 8, binary=output == "bernoulli")
    container = compress("tiny", images, model=model, options=CompressOptions(batch=2))
    out = decompress(unpack(pack(container)), model=model)
    assert out.images.dtype == np.uint8 and np.array_equal(out.images, images)
    nll = float(pixels.nll_bits(model, torch.from_numpy(images), None).sum())
    bits = 8 * len(container.payload)
    assert nll - 32 <= bits <= 1.01 * nll + 64


def test_class_conditional_labels_null_given_and_best():
    model = tiny("bernoulli", num_classes=3, p_uncond=0.1)
    images = random_images(4, 8, binary=True, seed=1)
    null = compress("tiny", images, model=model)
    assert null.header["labels"] == "null"
    nll_null = float(pixels.nll_bits(model, torch.from_numpy(images), torch.full((4,), 3)).sum())
    assert nll_null - 32 <= 8 * len(null.payload) <= 1.01 * nll_null + 64
    labels = np.array([2, 0, 1, 2])
    given = compress("tiny", images, labels=labels, model=model)
    out = decompress(given, model=model)
    assert np.array_equal(out.images, images) and out.labels.tolist() == labels.tolist()
    no_null = tiny("bernoulli", num_classes=3)
    best = compress("tiny", images, model=no_null)
    assert best.header["labels"] == "coded"
    assert np.array_equal(decompress(best, model=no_null).images, images)


def test_real_digits_with_the_shipped_pixelcnn():
    from genvision.data import load_dataset

    data = load_dataset("mnist5k", split="val")
    pick = torch.tensor([3, 120, 250, 499])
    images = ((data.images[pick] >= 128).to(torch.uint8) * 255).permute(0, 2, 3, 1).numpy()
    container = compress("pretrained:pixelcnn-mnist", images)
    assert np.array_equal(decompress(unpack(pack(container))).images, images)
    model = pixels_model()
    nll = float(pixels.nll_bits(model, torch.from_numpy(images), torch.full((4,), model.null_label)).sum())
    assert nll - 32 <= 8 * len(container.payload) <= 1.01 * nll + 64


def pixels_model() -> PixelCNNModel:
    from genvision.compress.api import load_coding_model

    return load_coding_model("pretrained:pixelcnn-mnist")


def test_coding_is_deterministic():
    model = tiny("categorical")
    images = random_images(3, 8, seed=2)
    a = pack(compress("tiny", images, model=model))
    b = pack(compress("tiny", images, model=model))
    assert a == b
    first, second = decompress(unpack(a), model=model), decompress(unpack(a), model=model)
    assert np.array_equal(first.images, second.images)


def test_grey_images_need_binarize_for_a_binary_model():
    model = tiny("bernoulli")
    images = random_images(2, 8, seed=3)
    with pytest.raises(GenvisionError, match="--binarize"):
        compress("tiny", images, model=model)
    container = compress("tiny", images, model=model, options=CompressOptions(binarize=True))
    assert container.header["binarized"]
    assert np.array_equal(decompress(container, model=model).images, (images >= 128).astype(np.uint8) * 255)


def test_wrong_image_size_is_one_error():
    with pytest.raises(GenvisionError, match="8x8x1"):
        compress("tiny", random_images(1, 6), model=tiny("categorical"))


def test_fill_with_a_drawing_choice_is_the_sampler():
    """sample() and fill_with(draw) run the same loop: same generator, same images."""
    model = tiny("categorical", levels=4)
    dist = model.dist
    gen = torch.Generator().manual_seed(5)

    def draw(params, pixel, site: Site):
        u = torch.rand((pixel.shape[0], dist.uniforms), generator=gen)
        return dist.sample_step(params, pixel, site.step, u, temperature=1.0)

    filled = model.fill_with(torch.zeros(3, 1, 8, 8), draw)
    sampled = model.sample(3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(dist.decode(filled), sampled)
