"""Batch transforms (binarisation, quantisation, dequantisation) and DataConfig."""

import dataclasses

import numpy as np
import pytest
import torch

from genvision.data import (
    DataConfig,
    binarize_dynamic,
    binarize_static,
    dequantize_uniform,
    from_levels,
    quantize,
    to_float,
    to_levels,
)
from genvision.data.transforms import bin_width
from genvision.errors import GenvisionError


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_binarize_static_golden():
    x = torch.tensor([-1.0, -0.2, 0.0, 0.1, 1.0])
    assert binarize_static(x).tolist() == [-1, -1, -1, 1, 1]
    assert binarize_static(x, threshold=-0.5).tolist() == [-1, 1, 1, 1, 1]


def test_binarize_dynamic_frequencies_match_probability():
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    x = (2 * p - 1).view(1, 5, 1, 1).expand(20_000, 5, 1, 1)
    b = binarize_dynamic(x, generator=_gen(1))
    assert set(b.unique().tolist()) <= {-1.0, 1.0} and b.shape == x.shape
    freq = (b == 1).float().mean(0).flatten()
    # binomial std at n = 20,000 is <= 0.0036: 5 sigma tolerance
    assert torch.allclose(freq, p, atol=0.018)
    assert freq[0] == 0 and freq[-1] == 1
    # same generator seed -> same draw; fresh draws differ
    assert torch.equal(
        binarize_dynamic(x[:10], generator=_gen(3)), binarize_dynamic(x[:10], generator=_gen(3))
    )
    assert not torch.equal(
        binarize_dynamic(x[:100], generator=_gen(3)), binarize_dynamic(x[:100], generator=_gen(4))
    )


def test_quantize_golden_and_idempotent():
    x = torch.tensor([-1.0, -0.6, -0.3, 0.2, 0.34, 0.9, 1.0])
    # levels = 4: grid -1, -1/3, 1/3, 1
    assert to_levels(x, 4).tolist() == [0, 1, 1, 2, 2, 3, 3]
    np.testing.assert_allclose(quantize(x, 4).numpy(), [-1, -1 / 3, -1 / 3, 1 / 3, 1 / 3, 1, 1], atol=1e-6)
    y = torch.rand(2, 3, 8, 8, generator=_gen()) * 2 - 1
    for levels in (2, 3, 16, 256):
        q = quantize(y, levels)
        assert torch.equal(quantize(q, levels), q)
        assert (q - y).abs().max() <= bin_width(levels) / 2 + 1e-6


def test_levels_round_trip():
    idx = torch.arange(256)
    assert torch.equal(to_levels(from_levels(idx, 256), 256), idx)
    u8 = torch.randint(0, 256, (4, 1, 5, 5), dtype=torch.uint8, generator=_gen())
    assert torch.equal(to_levels(to_float(u8), 256), u8.long())  # uint8 data sits on the 256-level grid
    assert to_levels(torch.tensor([-3.0, 3.0]), 5).tolist() == [0, 4]  # clamped
    with pytest.raises(GenvisionError, match="levels must be an int >= 2"):
        to_levels(idx.float(), 1)


def test_dequantize_uniform_convention():
    u8 = torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8, generator=_gen())
    x = to_float(u8)
    y = dequantize_uniform(x, generator=_gen(1))
    # y = (u + U[0, 1)) / 127.5 - 1: the noise, in uint8 units, lies in [0, 1) and is uniform
    noise = (y + 1) * 127.5 - u8.float()
    assert noise.min() >= -1e-4 and noise.max() < 1 + 1e-4
    assert abs(noise.mean().item() - 0.5) < 0.02 and abs(noise.var().item() - 1 / 12) < 0.01
    assert y.min() >= -1 and y.max() < 1 + 2 / 255 + 1e-6
    d4 = dequantize_uniform(x, bits=4, generator=_gen(2)) - x  # one bin of the 16-level grid: 2 / 15
    assert d4.min() >= 0 and d4.max() < 2 / 15 and d4.max() > 0.9 * 2 / 15


def test_config_defaults_and_validation():
    cfg = DataConfig()
    assert (cfg.data, cfg.binarize, cfg.levels, cfg.dequantize) == ("mnist5k", "none", 0, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.levels = 3  # type: ignore[misc]
    bad = [
        dict(data="nope"),
        dict(image_size=-1),
        dict(channels=2),
        dict(binarize="sometimes"),
        dict(levels=1),
        dict(levels=-4),
        dict(binarize="static", levels=4),
        dict(binarize="dynamic", dequantize=True),
        dict(levels="8"),
        dict(dequantize=1),
    ]
    for kwargs in bad:
        with pytest.raises(GenvisionError):
            DataConfig(**kwargs)


def test_config_batch_transform():
    x = torch.rand(4, 1, 6, 6, generator=_gen()) * 2 - 1
    assert torch.equal(DataConfig().batch_transform()(x, None), x)
    assert torch.equal(DataConfig(binarize="static").batch_transform()(x, None), binarize_static(x))
    dyn = DataConfig(binarize="dynamic").batch_transform()
    assert torch.equal(dyn(x, _gen(5)), binarize_dynamic(x, generator=_gen(5)))
    q = DataConfig(levels=4).batch_transform()(x, None)
    assert torch.equal(q, quantize(x, 4))
    dq = DataConfig(levels=4, dequantize=True).batch_transform()(x, _gen(6))
    assert torch.all((dq - q >= 0) & (dq - q < 2 / 3 + 1e-6))


def test_config_load():
    ds = DataConfig(data="digits", image_size=12, channels=3).load(split="val", seed=1)
    assert ds.image_shape == (3, 12, 12) and len(ds) == 179
