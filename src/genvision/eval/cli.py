"""`genvision eval TARGET [--metrics=...] [--n=N] ...`: evaluate (genvision.eval.run), print a table, write JSON."""

from __future__ import annotations

import math

from genvision.eval.run import evaluate_target


def cmd_eval(args: list[str]) -> int:
    """genvision eval RUN|CHECKPOINT|pretrained:NAME|samples.npz [--metrics=fid,kid,pr,accuracy,...] [--n=1000]
    [--batch=250] [--seed=0] [--split=val] [--data=NAME] [--classifier=RUN] [--device=cpu] [--out=FILE.json]
    [--model's sampling options]. Writes RUN/eval.json (SAMPLES.eval.json for a samples file); an earlier
    evaluation there is kept and the new one goes to eval-2.json, eval-3.json, ..."""
    from genvision.errors import GenvisionError
    from genvision.eval.results import write_new_json
    from genvision.eval.table import format_table

    if not args or args[0].startswith("--"):
        raise GenvisionError("usage: genvision eval RUN|CHECKPOINT|pretrained:NAME|samples.npz [--metrics=...]")
    result, out_path = evaluate_target(args[0], args[1:])
    rows = [{"metric": k, "value": v} for k, v in result.items()
            if isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v)]
    print(format_table(rows))
    if "eval_classifier" in result:
        print(f"evaluation classifier: {result['eval_classifier']}")
    written = write_new_json(out_path, result)
    kept = f" ({out_path} holds an earlier evaluation, kept)" if written != out_path else ""
    print(f"wrote {written}{kept}")
    return 0
