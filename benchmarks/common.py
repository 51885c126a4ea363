"""Shared helpers for benchmarks: interleaved timing so both sides see the same machine noise."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved(fns: dict[str, Callable[[], None]], *, rounds: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of each fn, run A B C A B C ... so drift hits all alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def print_table(title: str, rows: list[dict]) -> None:
    from genvision.eval.table import format_table

    print(f"\n== {title}")
    print(format_table(rows))
