"""Start `genvision lab` in a child process on a free local port and wait until it answers: what the browser
test and the screenshot script share."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from genvision.lab.command import OFFLINE_ENV

# Debian's chromium, as Playwright should launch it here (no sandbox as root, nothing fetched in the background)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_lab(targets: Sequence[str] = (), *, log: Path, temp_dir: Path, timeout: float = 90.0) -> Iterator[str]:
    """Yield the URL of a lab served by a child process (output in `log`, Gradio's files in `temp_dir`);
    terminate it on exit. Raises RuntimeError with the log if it exits or stays silent for `timeout` s."""
    port = free_port()
    env = {**os.environ, **OFFLINE_ENV, "GRADIO_TEMP_DIR": str(temp_dir)}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "genvision.cli", "lab", f"--port={port}", *targets], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the lab exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"the lab did not answer within {timeout:.0f} s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
