"""genvision's command line: parse, dispatch through one table, print errors as one line.

  genvision train MODEL [--preset=P] [--name=RUN] [--resume] [--key=value ...]
  genvision sample RUN|CHECKPOINT --n N [--label K] --out FILE.png|FILE.npz [--seed S] [--option=value ...]
  genvision eval RUN|samples.npz [--metrics=...] [--data=...] [--split=val] [--n=N]
  genvision data [NAME]
  genvision models [--markdown]   (registered models; shipped pretrained:NAME models with their figures)
  genvision guidance-sweep RUN [--weights=0,1,2,4] [--classifier=NOISY_RUN --scales=0,1,2,4]
  genvision complete RUN [--rows=14] [--images=8] [--samples=4] [--out=FILE.png]
  genvision patch-vq IMAGE_OR_DATASET [--k=64] [--patch=4] [--out=DIR]
  genvision report [RUN|pretrained:NAME ...] [--out=report/] [--n=16] [--seed=0] [--steps=10] [--measure]
  genvision compress MODEL|patch-vq IN.npz|PNG|DIR ... --out FILE.gv   (docs/compression.md)
  genvision decompress FILE.gv --out DIR|FILE.npz
  genvision lab [--port 7860] [--host 127.0.0.1] [--threads 1] [RUN|pretrained:NAME ...]   (web lab; needs .[lab])
  genvision demo      (the main job: a small CFG model on mnist5k and its figures)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from genvision.errors import GenvisionError

USAGE = __doc__

# command -> "module:function"; each function takes the argument list after the command and returns an exit
# code. A new command is one line here and a function in its own module (imported only when it runs).
COMMANDS: dict[str, str] = {
    "train": "genvision.commands:cmd_train",
    "sample": "genvision.commands:cmd_sample",
    "eval": "genvision.eval.cli:cmd_eval",
    "data": "genvision.commands:cmd_data",
    "models": "genvision.commands:cmd_models",
    "guidance-sweep": "genvision.commands:cmd_guidance_sweep",
    "demo": "genvision.commands:cmd_demo",
    "complete": "genvision.commands:cmd_complete",
    "patch-vq": "genvision.quantize.cli:cmd_patch_vq",
    "report": "genvision.report:cmd_report",
    "compress": "genvision.compress.cli:cmd_compress",
    "decompress": "genvision.compress.cli:cmd_decompress",
    "lab": "genvision.lab.command:cmd_lab",
}


def command(name: str) -> Callable[[list[str]], int]:
    if name not in COMMANDS:
        raise GenvisionError(f"unknown command {name!r}; see `genvision --help`")
    module, _, func = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), func)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    try:
        return command(argv[0])(argv[1:])
    except GenvisionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
