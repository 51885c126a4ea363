"""Plain-text aligned tables for printing metrics."""

from __future__ import annotations

import numbers
from typing import Any

from torch import Tensor


def format_value(value: Any) -> str:
    """Text for one cell: floats to 4 decimals (scientific when tiny or huge), ints and text as they are."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    v = float(value)
    if v != 0.0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
        return f"{v:.3e}"
    return f"{v:.4f}"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real | Tensor) and not isinstance(value, bool)


def format_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Rows of {column: value} as an aligned table: header, dashes, one line per row.

    columns defaults to every key in order of first appearance; missing cells are blank. Numbers are
    right-aligned, text left-aligned.
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    if not columns:
        return ""
    cells = [[format_value(row.get(col)) for col in columns] for row in rows]
    numeric = [all(_is_number(row[col]) for row in rows if row.get(col) is not None) for col in columns]
    widths = [max([len(col)] + [len(line[i]) for line in cells]) for i, col in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out += [line(values) for values in cells]
    return "\n".join(out)
