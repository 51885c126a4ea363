import math

import pytest
import torch

from genvision.errors import GenvisionError
from genvision.eval import codebook_stats


def test_uniform_use_of_half_the_codes():
    indices = torch.tensor([[0, 2, 4, 6], [6, 4, 2, 0]])
    stats = codebook_stats(indices, 8)
    assert stats.usage == 0.5
    assert stats.perplexity == pytest.approx(4.0)
    assert stats.entropy_bits == pytest.approx(2.0)
    assert stats.dead_codes == 4


def test_skewed_use_and_collapse():
    stats = codebook_stats(torch.tensor([1, 1, 0, 3]).reshape(2, 2, 1), 4)  # p = 1/2, 1/4, 1/4
    assert stats.entropy_bits == pytest.approx(1.5)
    assert stats.perplexity == pytest.approx(2**1.5)
    assert stats.dead_codes == 1 and stats.usage == 0.75
    collapsed = codebook_stats(torch.full((5, 3), 7), 16)
    assert collapsed.perplexity == pytest.approx(1.0) and collapsed.entropy_bits == 0.0
    assert collapsed.dead_codes == 15


def test_all_codes_uniform_gives_num_codes():
    stats = codebook_stats(torch.arange(512).repeat(3), 512)
    assert stats.perplexity == pytest.approx(512.0)
    assert stats.entropy_bits == pytest.approx(math.log2(512))
    assert stats.usage == 1.0 and stats.dead_codes == 0


def test_invalid_indices_raise():
    with pytest.raises(GenvisionError):
        codebook_stats(torch.tensor([0, 8]), 8)
    with pytest.raises(GenvisionError):
        codebook_stats(torch.tensor([-1, 0]), 8)
    with pytest.raises(GenvisionError):
        codebook_stats(torch.tensor([0.0, 1.0]), 8)
