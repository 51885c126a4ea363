"""`genvision eval TARGET [--metrics=...] [--n=N] ...`: evaluate (genvision.eval.run), print a table, write JSON."""

from __future__ import annotations

import json
import math

from genvision.eval.run import evaluate_target


def cmd_eval(args: list[str]) -> int:
    from genvision.errors import GenvisionError
    from genvision.eval.table import format_table

    if not args or args[0].startswith("--"):
        raise GenvisionError("usage: genvision eval RUN|CHECKPOINT|pretrained:NAME|samples.npz [--metrics=...]")
    result, out_path = evaluate_target(args[0], args[1:])
    rows = [{"metric": k, "value": v} for k, v in result.items()
            if isinstance(v, float | int) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))]
    print(format_table(rows))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path}")
    return 0
