"""Where a command writes, checked before any work (before a model is loaded or a sample drawn): the one checker
every command that writes a file or a folder calls. Each refusal is one line naming the option, the path, what
is wrong and what is accepted."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from genvision.errors import GenvisionError


def _shown(option: str, path: str) -> str:
    """How a message names the path: --out=x.png for an option, "run folder runs/x" for a derived one."""
    return f"{option}={path}" if option.startswith("--") else f"{option} {path}"


def _writable_folder(path: Path, shown: str) -> None:
    """The nearest existing folder above `path` (which mkdir would create the rest under) must be a folder, and
    one this process may create entries in."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise GenvisionError(f"{shown}: {parent} is a file, so nothing can be written under it")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GenvisionError(f"{shown}: the folder {parent} is not writable (permissions or a read-only file "
                             "system); choose another --out")


def check_output_file(path: str | Path, *, option: str = "--out", suffixes: Sequence[str] = (".png",)) -> Path:
    """A file a command will write: its extension among `suffixes` (any case), not a folder, writable (or
    creatable: missing folders are created later). Returns it as a Path."""
    text = str(path)
    accepted = ", ".join(suffixes)
    if not text:
        raise GenvisionError(f"{option} needs a file name ending in {accepted}")
    shown = _shown(option, text)
    p = Path(text)
    suffix = p.suffix.lower()
    if suffix not in {s.lower() for s in suffixes}:
        kind = f"a {p.suffix} file" if p.suffix else "a name without an extension"
        raise GenvisionError(f"{shown}: cannot write {kind}; accepted: {accepted}")
    if p.is_dir():
        raise GenvisionError(f"{shown} is a folder; give a file name such as {p / ('out' + suffixes[0])}")
    if p.exists() and not os.access(p, os.W_OK):
        raise GenvisionError(f"{shown}: the file exists and is not writable")
    _writable_folder(p, shown)
    return p


def check_output_dir(path: str | Path, *, option: str = "--out") -> Path:
    """A folder a command will write into (created if missing): not a file, writable. Returns it as a Path."""
    text = str(path)
    if not text:
        raise GenvisionError(f"{option} needs a folder name")
    shown = _shown(option, text)
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise GenvisionError(f"{shown} is a file, not a folder; give a folder name")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise GenvisionError(f"{shown}: the folder is not writable (permissions or a read-only file system)")
        return p
    _writable_folder(p, shown)
    return p


def output_kind(path: str | Path) -> str:
    """The lower-case extension that picks the writer: '.png', '.npz', ... (x.NPZ is an .npz)."""
    return Path(path).suffix.lower()
