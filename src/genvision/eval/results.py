"""Evaluation results on disk: valid JSON (a NaN or inf metric is written as null), and never over an earlier
evaluation: `eval` writes eval.json, then eval-2.json, eval-3.json, ... beside it; readers merge them in order."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any


def json_safe(value: Any) -> Any:
    """value with every non-finite float replaced by None (JSON has no NaN: json.dumps would write a bare NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def numbered(path: Path, k: int) -> Path:
    """eval.json, eval-2.json, eval-3.json, ... (k = 1, 2, 3, ...); x.eval.json -> x.eval-2.json."""
    return path if k == 1 else path.with_name(f"{path.stem}-{k}{path.suffix}")


def write_new_json(path: str | Path, result: dict[str, Any]) -> Path:
    """Write result to `path`, or to the first numbered name beside it that does not exist yet (created
    exclusively, so two evaluations at once cannot take the same name). Returns where it went."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n"
    k = 1
    while True:
        target = numbered(path, k)
        try:
            with open(target, "x") as f:
                f.write(text)
            return target
        except FileExistsError:
            k += 1


def stored_results(path: str | Path) -> list[Path]:
    """path and its numbered successors that exist, oldest first (eval.json, eval-2.json, ...)."""
    path = Path(path)
    pattern = re.compile(re.escape(path.stem) + r"-(\d+)" + re.escape(path.suffix) + "$")
    found = [(1, path)] if path.is_file() else []
    if path.parent.is_dir():
        for p in path.parent.iterdir():
            m = pattern.match(p.name)
            if m and int(m.group(1)) >= 2 and p.is_file():
                found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]
