"""The range coder: round trips, and its length against the ideal sum of -log2 p (Shannon)."""

import math

import numpy as np
import pytest
import torch

from genvision.compress.coder import Decoder, Encoder
from genvision.errors import GenvisionError


def test_round_trip_and_length_reaches_the_information_content():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(3 * torch.randn(2000, 7, generator=gen), -1)
    symbols = torch.multinomial(probs, 1, generator=gen)[:, 0]
    enc = Encoder()
    enc.uniform(np.array([2, 9, 0]), 10)
    offset = 0
    for part in symbols.split(100):  # 20 calls, as the pixel loop makes them
        enc.categorical(part, probs[offset : offset + len(part)])
        offset += len(part)
    payload = enc.finish()
    ideal = float(-probs[torch.arange(2000), symbols].log2().sum()) + 3 * math.log2(10)
    assert ideal <= 8 * len(payload) <= ideal * 1.01 + 64  # at most the two flushed 32-bit words over 1%
    dec = Decoder(payload)
    assert dec.uniform(3, 10).tolist() == [2, 9, 0]
    out = np.concatenate([dec.categorical(p) for p in probs.split(100)])
    assert np.array_equal(out, symbols.numpy())


def test_an_alphabet_of_one_costs_nothing():
    enc = Encoder()
    enc.uniform(np.zeros(50, dtype=np.int64), 1)
    assert enc.finish() == b""
    assert Decoder(b"").uniform(50, 1).tolist() == [0] * 50


def test_a_partial_word_is_refused():
    with pytest.raises(GenvisionError, match="32-bit words"):
        Decoder(b"abc")


def test_strided_probabilities_cost_what_they_say():
    """A regression: constriction reads a non-contiguous array (Tensor.expand) as if contiguous, which coded
    a stream 19% longer than its entropy (still decodable, since the decoder misread it the same way)."""
    counts = torch.tensor([28, 50, 17, 8, 3, 9, 21, 19, 5, 9, 7, 3, 9, 2, 1, 1])
    symbols = torch.repeat_interleave(torch.arange(16), counts)
    probs = (counts.double() / counts.sum()).float()
    ideal = float(-(probs[symbols].log2()).sum())
    enc = Encoder()
    enc.categorical(symbols, probs.expand(len(symbols), -1))
    payload = enc.finish()
    assert ideal <= 8 * len(payload) <= ideal + 64
    assert np.array_equal(Decoder(payload).categorical(probs.expand(len(symbols), -1)), symbols.numpy())
