import math

import pytest
import torch

from genvision.errors import GenvisionError
from genvision.lab.completion import complete_ranked, model_labels, pixel_bits


def _digit():
    x = torch.full((1, 1, 6, 6), -1.0)
    x[0, 0, 1:5, 2:4] = 1.0
    return x


def test_pixel_bits_sum_to_the_exact_nll(pixelcnn):
    x = _digit()
    for label in (None, 1):
        bits = pixel_bits(pixelcnn, x, label=label)
        assert bits.shape == (6, 6) and (bits >= 0).all()
        labels = model_labels(pixelcnn, label, 1)
        nll_bits = -pixelcnn.log_prob(x, labels=labels) / math.log(2)
        torch.testing.assert_close(bits.sum(), nll_bits[0], atol=1e-4, rtol=1e-5)


def test_no_label_means_the_null_label(pixelcnn):
    assert model_labels(pixelcnn, None, 2).tolist() == [pixelcnn.null_label] * 2
    assert model_labels(pixelcnn, 2, 1).tolist() == [2]
    with pytest.raises(GenvisionError, match="out of range"):
        model_labels(pixelcnn, 3, 1)


def test_completions_keep_the_visible_rows_and_are_ranked_by_log_likelihood(pixelcnn):
    x = _digit()
    r = complete_ranked(pixelcnn, x, rows=3, n=6, label=2, seed=1)
    assert r.samples.shape == (6, 1, 6, 6)
    assert torch.equal(r.samples[:, :, :3], x[:, :, :3].expand(6, -1, -1, -1))
    assert torch.all(r.log_probs[:-1] >= r.log_probs[1:])
    torch.testing.assert_close(r.log_probs, pixelcnn.log_prob(r.samples, labels=torch.full((6,), 2)))
    assert "bottom 3 rows" in r.text and "class 2" in r.text
    assert r.occluded.shape == ((6 + 4) * 4, (6 + 4) * 4, 3)  # 6x6 + 2 px padding each side, x4


def test_completion_rejects_bad_rows(pixelcnn):
    with pytest.raises(GenvisionError, match="visible rows"):
        complete_ranked(pixelcnn, _digit(), rows=7, n=1)
