"""The entropy coder: a range coder (constriction's `queue.RangeEncoder`, 32-bit words) driven one batch of
symbols at a time, each with its own categorical distribution.

A symbol s with model probability p costs -log2 p bits (Shannon 1948); arithmetic / range coding reaches
that sum to within a few bits per stream (Witten, Neal & Cleary 1987; Martin 1979), because it narrows one
interval by the factor p per symbol instead of spending a whole number of bits on each. constriction
quantises each probability vector to integers (24-bit precision, every symbol > 0), deterministically from
the float64 values it is given: the encoder and the decoder must hand it bit-identical probabilities.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from genvision.errors import GenvisionError


def _family():  # imported lazily: the CLI's other commands do not need the coder
    import constriction

    return constriction


def _coder_error(exc: BaseException) -> bool:
    """What a decoder raises on a bad stream; Rust panics surface as pyo3's PanicException (a BaseException)."""
    return isinstance(exc, (ValueError, RuntimeError, AssertionError)) or type(exc).__name__ == "PanicException"


def _probabilities(probs: Tensor) -> np.ndarray:
    """(n, K) float32 probabilities -> float64 numpy, exactly (every float32 is a float64), C-contiguous:
    constriction reads a strided array (e.g. from Tensor.expand) as if it were contiguous."""
    return np.ascontiguousarray(probs.detach().float().cpu().numpy(), dtype=np.float64)


class Encoder:
    """Collects symbols into one range-coded stream; `finish()` -> bytes."""

    def __init__(self) -> None:
        self._coder = _family().stream.queue.RangeEncoder()

    def categorical(self, symbols: Tensor, probs: Tensor) -> None:
        """symbols (n,) int in [0, K), probs (n, K): one distribution per symbol."""
        c = _family()
        self._coder.encode(np.ascontiguousarray(symbols.detach().cpu().numpy(), dtype=np.int32),
                           c.stream.model.Categorical(perfect=False), _probabilities(probs))

    def uniform(self, symbols: Tensor | np.ndarray, size: int) -> None:
        """symbols (n,) int in [0, size): log2(size) bits each (nothing when size is 1)."""
        arr = np.ascontiguousarray(symbols.detach().cpu() if isinstance(symbols, Tensor) else symbols, dtype=np.int32)
        if size <= 1:
            return
        self._coder.encode(arr.reshape(-1), _family().stream.model.Uniform(size))

    def finish(self) -> bytes:
        return self._coder.get_compressed().astype("<u4").tobytes()


class Decoder:
    """Reads the symbols of an `Encoder`'s stream back, in the same order, given the same distributions."""

    def __init__(self, payload: bytes) -> None:
        if len(payload) % 4:
            raise GenvisionError("the compressed stream is not a whole number of 32-bit words (truncated?)")
        words = np.frombuffer(payload, dtype="<u4").astype(np.uint32)
        self._coder = _family().stream.queue.RangeDecoder(words)

    def categorical(self, probs: Tensor) -> np.ndarray:
        """probs (n, K) -> symbols (n,) int64."""
        c = _family()
        try:
            out = self._coder.decode(c.stream.model.Categorical(perfect=False), _probabilities(probs))
        except BaseException as exc:
            if not _coder_error(exc):
                raise
            raise GenvisionError(f"the compressed stream does not decode ({exc})") from None
        return np.asarray(out, dtype=np.int64)

    def uniform(self, n: int, size: int) -> np.ndarray:
        if size <= 1:
            return np.zeros(n, dtype=np.int64)
        try:
            out = self._coder.decode(_family().stream.model.Uniform(size), n)
        except BaseException as exc:
            if not _coder_error(exc):
                raise
            raise GenvisionError(f"the compressed stream does not decode ({exc})") from None
        return np.asarray(out, dtype=np.int64)
