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
import inspect
import os
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


HELP = ("-h", "--help")


def command_help(name: str, args: list[str]) -> str:
    """`genvision NAME --help`: its function's docstring when that starts with its usage, else its usage line(s)
    from USAGE and the docstring; a command function with a `describe(args)` attribute adds what depends on its
    arguments (train MODEL: that model's options)."""
    func = command(name)
    doc = inspect.getdoc(func) or ""
    lines = [] if doc.startswith(f"genvision {name}") else [
        line.strip() for line in USAGE.splitlines()
        if line.strip().startswith(f"genvision {name} ") or line.strip() == f"genvision {name}"]
    text = "\n".join(lines + ([""] if lines and doc else []) + ([doc] if doc else []))
    describe = getattr(func, "describe", None)
    return text + ("\n\n" + describe([a for a in args if a not in HELP]) if describe else "")


def _quiet_broken_pipe() -> int:
    """The reader of stdout went away (`genvision --help | head -1`): no traceback, and none at exit either
    when Python flushes stdout (it is pointed at /dev/null). 141 = 128 + SIGPIPE, as a shell reports it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured in tests)
        pass
    return 141


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in (*HELP, "help"):
            print(USAGE)
            return 0
        if any(a in HELP for a in argv[1:]):
            print(command_help(argv[0], argv[1:]))
            return 0
        return command(argv[0])(argv[1:])
    except GenvisionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
