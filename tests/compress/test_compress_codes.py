"""Code maps through a tokenizer: uniform code = h w log2 K bits exactly, learned prior = its NLL; the
decoded images are the tokenizer's reconstructions of the coded maps."""

import math

import numpy as np
import pytest
import torch

from genvision.autoregressive.code_prior import CodeMapPrior
from genvision.compress import CompressOptions, codes, compress, decompress
from genvision.compress.container import pack, unpack
from genvision.errors import GenvisionError
from genvision.vqvae.model import VQVAE, VQVAEConfig


@pytest.fixture(scope="module")
def prior():
    torch.manual_seed(0)
    vq = VQVAE(VQVAEConfig(hidden=8, res_blocks=0, latent_dim=4, num_codes=8, downsample=1), (1, 8, 8))
    return CodeMapPrior(vq, num_codes=8, code_shape=(4, 4), arch="gated", hidden=8, layers=2, first_kernel=3,
                        input_embedding=4, num_classes=3).eval()


def images(n: int = 6) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 8, 8, 1), dtype=np.uint8)


def test_learned_prior_round_trip_and_length(prior):
    x = images()
    labels = np.array([0, 1, 2, 0, 1, 2])
    container = compress("tiny", x, labels=labels, model=prior)
    out = decompress(unpack(pack(container)), model=prior)
    maps = codes.encode_maps(prior, torch.from_numpy(x))
    assert np.array_equal(out.images, codes.decode_maps(prior, maps))
    assert out.labels.tolist() == labels.tolist()
    nll = float(codes.prior_bits(prior, maps, torch.from_numpy(labels)).sum()) + 6 * math.log2(3)
    assert nll - 32 <= 8 * len(container.payload) <= 1.01 * nll + 64


def test_uniform_prior_costs_log2_k_per_cell(prior):
    x = images(10)
    container = compress("tiny", x, model=prior, options=CompressOptions(prior="uniform"))
    ideal = 10 * 16 * math.log2(8)  # 480 bits
    assert ideal <= 8 * len(container.payload) <= ideal + 64
    maps = codes.encode_maps(prior, torch.from_numpy(x))
    assert np.array_equal(decompress(container, model=prior).images, codes.decode_maps(prior, maps))


def test_a_tokenizer_alone_needs_the_uniform_prior(prior):
    with pytest.raises(GenvisionError, match="no learned prior"):
        compress("tiny", images(2), model=prior.tokenizer)
    container = compress("tiny", images(2), model=prior.tokenizer, options=CompressOptions(prior="uniform"))
    assert decompress(container, model=prior.tokenizer).images.shape == (2, 8, 8, 1)
