"""`genvision report [RUN|pretrained:NAME ...] --out=report/ [--n=16] [--seed=0] [--steps=10] [--measure]`:
build the static HTML page, one section per model."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from genvision.config import option
from genvision.errors import GenvisionError
from genvision.report.page import render_page, write_page
from genvision.report.sections import model_section
from genvision.report.targets import ReportOptions, default_targets, load_targets

USAGE = ("usage: genvision report [RUN|CHECKPOINT|pretrained:NAME ...] [--out=report/] [--n=16] [--seed=0] "
         "[--steps=10] [--measure]")


def build_report(targets: list[str], out_dir: str | Path, *, n: int = 16, seed: int = 0, steps: int = 10,
                 measure: bool = False) -> Path:
    """Write out_dir/index.html and its PNG figures for the given targets (none: every shipped pretrained
    model); returns the page's path.

    n: samples per grid (class-conditional models: rounded up to whole rows, one column per class);
    steps: DDIM steps of every diffusion figure; measure: also run small guidance sweeps (slow), otherwise
    trade-offs are plotted from stored metrics only."""
    if n < 1 or steps < 1:
        raise GenvisionError(f"--n and --steps must be positive, got n={n}, steps={steps}")
    targets = list(targets) or default_targets()
    if not targets:
        raise GenvisionError("no targets given and no pretrained models are shipped in this installation")
    opts = ReportOptions(out_dir=Path(out_dir), n=n, seed=seed, steps=steps, measure=measure)
    t0 = time.time()
    loaded = load_targets(targets)
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    sections = [model_section(t, loaded, opts) for t in loaded]
    how = f"n={n}, seed={seed}, DDIM steps={steps}" + (", guidance sweeps measured" if measure else "")
    intro = (f"{len(sections)} model(s): {', '.join(targets)}. Figures drawn now ({how}) in "
             f"{time.time() - t0:.0f} s; metrics are the stored evaluations, not re-measured.")
    page = render_page(sections, opts.out_dir, title="genvision report", intro=intro)
    return write_page(page, opts.out_dir / "index.html")


@dataclass(frozen=True)
class ReportCommandOptions:
    out: str = "report"
    n: int = option(16, min=1)
    seed: int = 0
    steps: int = option(10, min=1)
    measure: bool = False


def cmd_report(args: list[str]) -> int:
    """The CLI entry: targets are the arguments without --; options are --key=value, --measure a flag."""
    from genvision.config import parse_key_values, parse_options
    from genvision.outputs import check_output_dir

    targets = [a for a in args if not a.startswith("--")]
    flags = [a for a in args if a.startswith("--")]
    if any("=" not in f and f != "--measure" for f in flags):
        raise GenvisionError(f"options are written --key=value; {USAGE}")
    opts = parse_options(ReportCommandOptions, parse_key_values(flags), what="report")
    check_output_dir(opts.out)
    path = build_report(targets, opts.out, n=opts.n, seed=opts.seed, steps=opts.steps, measure=opts.measure)
    print(path)
    return 0
