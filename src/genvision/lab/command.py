"""`genvision lab [--port 7860] [--host 127.0.0.1] [RUN|pretrained:NAME ...]`: serve the lab page locally."""

from __future__ import annotations

import os
import socket

from genvision.errors import GenvisionError

USAGE = "usage: genvision lab [--port 7860] [--host 127.0.0.1] [--threads 1] [RUN|pretrained:NAME ...]"
# Nothing leaves the machine: no usage analytics, no hub look-ups, local addresses never proxied.
OFFLINE_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1,localhost",
               "no_proxy": "127.0.0.1,localhost"}


def parse_args(args: list[str]) -> tuple[str, int, int, list[str]]:
    """(host, port, threads, targets) from `--port N`, `--host H`, `--threads N` (or `--key=value`) and
    positional targets."""
    host, port, threads, targets = "127.0.0.1", "7860", "1", []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in ("--port", "--host", "--threads"):
            if not eq:
                if i + 1 >= len(args):
                    raise GenvisionError(f"{name} needs a value; {USAGE}")
                value, i = args[i + 1], i + 1
            if name == "--port":
                port = value
            elif name == "--threads":
                threads = value
            else:
                host = value
        elif arg.startswith("-"):
            raise GenvisionError(f"unknown option {arg!r}; {USAGE}")
        else:
            targets.append(arg)
        i += 1
    try:
        port_number = int(port)
    except ValueError:
        raise GenvisionError(f"--port must be an integer, got {port!r}") from None
    if not 1 <= port_number <= 65535:
        raise GenvisionError(f"--port must be in 1..65535, got {port_number}")
    if not threads.isdigit() or int(threads) < 1:
        raise GenvisionError(f"--threads must be a positive integer, got {threads!r}")
    return host, port_number, int(threads), targets


def check_port_free(host: str, port: int) -> None:
    """One-line error when (host, port) cannot be bound (in use, or a host that is not this machine's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            sock.bind((host, port))
        except OSError as err:
            reason = "is in use" if err.errno == 98 else f"cannot be opened ({err.strerror})"
            raise GenvisionError(f"port {port} on {host} {reason}; pick another with --port N") from None


def cmd_lab(args: list[str]) -> int:
    host, port, threads, targets = parse_args(args)
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    check_port_free(host, port)
    import torch

    # One intra-op thread by default: on a shared 2-core machine two threads made the CFG tab ~5x slower
    # (docs/scripts/lab_timings.py: 36 s against 7 s at load 5-8); pass --threads 2 on a quiet machine.
    torch.set_num_threads(threads)
    from genvision.lab.models import LabModels

    models = LabModels(targets)  # a broken run folder fails here, before the server starts
    try:
        from genvision.lab.app import DOCS, build_app
    except ImportError as err:
        raise GenvisionError(f"the lab needs its web dependencies: pip install -e '.[lab]' ({err})") from None
    app = build_app(models)
    print(f"genvision lab on http://{host}:{port} (Ctrl-C stops it)", flush=True)
    app.queue().launch(server_name=host, server_port=port, share=False, inbrowser=False, ssr_mode=False,
                       quiet=True, show_error=True, allowed_paths=[str(DOCS)] if DOCS.is_dir() else None)
    return 0
