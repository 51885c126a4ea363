"""Commands beyond train/sample/eval/data/models, added by model families (e.g. guidance-sweep)."""

from __future__ import annotations

from collections.abc import Callable


def extra_commands() -> dict[str, Callable[[list[str]], int]]:
    return {}
