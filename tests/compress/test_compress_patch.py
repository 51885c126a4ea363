"""Patch VQ as a file: the decoded images are decode(encode(x)) with the stored 8-bit codebook, and the
stream costs the labels, the codebook, the counts and the empirical entropy of the codes."""

import math

import numpy as np
import torch

from genvision.compress import CompressOptions, compress, decompress
from genvision.compress import patch as patch_codec
from genvision.compress.container import pack, unpack


def test_enough_codes_is_lossless_and_the_rate_is_the_two_part_code():
    rng = np.random.default_rng(0)
    x = (rng.random((12, 8, 8, 1)) < 0.3).astype(np.uint8) * 255  # binary: at most 16 distinct 2x2 patches
    labels = rng.integers(0, 10, 12)
    container = compress("patch-vq", x, labels=labels, options=CompressOptions(k=16, patch=2, iters=5))
    out = decompress(unpack(pack(container)))
    assert np.array_equal(out.images, x)
    assert out.labels.tolist() == labels.tolist()
    code = patch_codec.fit(torch.from_numpy(x), k=16, patch=2, iters=5, seed=0)
    k = code.codebook.shape[0]
    ideal = (12 * math.log2(10) + k * 4 * 8 + k * math.log2(12 * 16 + 1)
             + patch_codec.entropy_bits(code.maps, k))
    assert ideal - 32 <= 8 * len(container.payload) <= ideal * 1.01 + 64


def test_lossy_output_is_the_codebook_reconstruction():
    x = np.random.default_rng(1).integers(0, 256, (4, 8, 8, 1), dtype=np.uint8)
    container = compress("patch-vq", x, options=CompressOptions(k=4, patch=4, iters=3))
    code = patch_codec.fit(torch.from_numpy(x), k=4, patch=4, iters=3, seed=0)
    assert np.array_equal(decompress(container).images, patch_codec.reconstruct(code, 4))


def test_entropy_bits_hand_computed():
    maps = torch.tensor([[[0, 0], [0, 1]]])  # p = 3/4, 1/4: 3 log2(4/3) + log2(4) = 3.245 bits
    assert math.isclose(patch_codec.entropy_bits(maps, 4), 3 * math.log2(4 / 3) + 2, rel_tol=1e-9)
