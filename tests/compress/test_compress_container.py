"""The .gv container: a damaged, truncated or foreign file is one GenvisionError, never wrong images."""

import math

import numpy as np
import pytest
import torch

from genvision.autoregressive.distributions import Bernoulli, Categorical, DiscretizedLogisticMixture
from genvision.autoregressive.model import PixelCNNConfig, PixelCNNModel
from genvision.compress import compress, decompress
from genvision.compress.container import pack, unpack, weights_digest
from genvision.errors import GenvisionError


def tiny(seed: int) -> PixelCNNModel:
    torch.manual_seed(seed)
    return PixelCNNModel(PixelCNNConfig(arch="gated", image_size=6, hidden=8, layers=1, first_kernel=3,
                                        output="categorical", levels=256)).eval()


@pytest.fixture(scope="module")
def coded():
    model = tiny(0)
    images = np.random.default_rng(0).integers(0, 256, (2, 6, 6, 1), dtype=np.uint8)
    return model, images, pack(compress("tiny", images, model=model))


def test_every_truncation_is_refused(coded):
    model, _, data = coded
    for cut in range(len(data)):
        with pytest.raises(GenvisionError):
            decompress(unpack(data[:cut]), model=model)


def test_every_flipped_byte_is_refused(coded):
    model, _, data = coded
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0x10
        with pytest.raises(GenvisionError):
            decompress(unpack(bytes(bad)), model=model)


def test_another_model_is_refused(coded):
    _, _, data = coded
    with pytest.raises(GenvisionError, match="other weights"):
        decompress(unpack(data), model=tiny(1))


def test_not_a_genvision_file():
    with pytest.raises(GenvisionError, match="signature"):
        unpack(b"\x89PNG\r\n")


def test_weights_digest_sees_one_changed_weight():
    model = tiny(0)
    before = weights_digest(model)
    assert weights_digest(tiny(0)) == before
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-6
    assert weights_digest(model) != before


def test_pmf_golden_values():
    b = Bernoulli(1).pmf(torch.tensor([[0.0], [math.log(3)]]), torch.zeros(2, 1), 0)
    assert torch.allclose(b, torch.tensor([[0.5, 0.5], [0.25, 0.75]]))
    c = Categorical(2, 3).pmf(torch.tensor([[0.0, 0.0, 0.0, 0.0, math.log(2), math.log(5)]]), torch.zeros(1, 2), 1)
    assert torch.allclose(c, torch.tensor([[1 / 8, 2 / 8, 5 / 8]]))
    dlm = DiscretizedLogisticMixture(1, 2, levels=16)
    params = torch.randn(3, dlm.param_channels, generator=torch.Generator().manual_seed(0))
    pmf = dlm.pmf(params, torch.zeros(3, 1), 0)
    grid = dlm.from_symbols(torch.arange(16))
    exact = torch.stack([dlm.log_prob(params[:, :, None, None], g.expand(3, 1, 1, 1))[:, 0, 0] for g in grid], 1)
    assert torch.allclose(pmf, exact.exp(), atol=1e-6)  # Eq. 2 bins already sum to one
    assert torch.equal(dlm.to_symbols(grid), torch.arange(16))
