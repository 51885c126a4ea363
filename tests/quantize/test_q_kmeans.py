"""k-means: distances and assignments against numpy, Lloyd never raises the distortion, well-separated
clusters are recovered, the generator makes it deterministic."""

import importlib

import numpy as np
import pytest
import torch

from genvision.errors import GenvisionError
from genvision.quantize import kmeans
from genvision.quantize.kmeans import kmeans_plusplus_init, lloyd_step, nearest, random_init, squared_distances


def test_squared_distances_and_nearest_match_numpy_brute_force():
    g = torch.Generator().manual_seed(0)
    x, c = torch.randn(50, 3, generator=g), torch.randn(7, 3, generator=g)
    brute = ((x.numpy()[:, None, :] - c.numpy()[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(squared_distances(x, c).numpy(), brute, rtol=1e-5, atol=1e-5)
    index, dist = nearest(x, c)
    np.testing.assert_array_equal(index.numpy(), brute.argmin(1))
    np.testing.assert_allclose(dist.numpy(), brute.min(1), rtol=1e-5, atol=1e-5)


def test_nearest_in_blocks_equals_one_block(monkeypatch):
    g = torch.Generator().manual_seed(1)
    x, c = torch.randn(100, 4, generator=g), torch.randn(9, 4, generator=g)
    whole = nearest(x, c)
    # the package re-exports the function kmeans, so reach the module through sys.modules
    monkeypatch.setattr(importlib.import_module("genvision.quantize.kmeans"), "CHUNK", 7)
    blocks = nearest(x, c)
    assert torch.equal(whole[0], blocks[0])


def clusters(seed=0, per=40):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    x = torch.cat([c + 0.3 * torch.randn(per, 2, generator=g) for c in centres])
    return x, centres, torch.arange(4).repeat_interleave(per)


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_kmeans_recovers_well_separated_clusters(init):
    x, centres, truth = clusters()
    result = kmeans(x, 4, init=init, generator=torch.Generator().manual_seed(3))
    match = squared_distances(centres, result.centroids).argmin(1)  # true centre -> found centroid
    assert sorted(match.tolist()) == [0, 1, 2, 3]
    torch.testing.assert_close(result.centroids[match], centres, atol=0.2, rtol=0)
    assert torch.equal(result.assignments, match[truth])
    assert result.inertia == pytest.approx(float((x - centres[truth]).pow(2).sum(1).mean()), rel=0.05)


def test_lloyd_steps_never_raise_the_distortion():
    x = torch.randn(300, 3, generator=torch.Generator().manual_seed(2))
    c = random_init(x, 8, generator=torch.Generator().manual_seed(0))
    inertias = []
    for _ in range(6):
        c, _, inertia = lloyd_step(x, c)
        inertias.append(inertia)
    assert all(b <= a + 1e-6 for a, b in zip(inertias, inertias[1:], strict=False))


def test_generator_makes_kmeans_deterministic_and_seeds_are_data_rows():
    x, _, _ = clusters(seed=5)
    a = kmeans(x, 4, generator=torch.Generator().manual_seed(7))
    b = kmeans(x, 4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.centroids, b.centroids)
    seeds = kmeans_plusplus_init(x, 4, generator=torch.Generator().manual_seed(0))
    assert squared_distances(seeds, x).min(1).values.max() == 0


def test_kmeans_plusplus_covers_every_distinct_row_when_k_exceeds_them():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]).repeat(5, 1)
    seeds = kmeans_plusplus_init(x, 6, generator=torch.Generator().manual_seed(0))
    assert squared_distances(x, seeds).min(1).values.max() == 0


def test_kmeans_rejects_bad_input():
    with pytest.raises(GenvisionError):
        kmeans(torch.randn(5), 2)
    with pytest.raises(GenvisionError):
        kmeans(torch.randn(5, 2), 0)
