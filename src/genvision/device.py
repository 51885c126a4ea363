"""Device names from the command line (`--device=...`), checked where they enter, before any work.

A leaf module: torch is imported only when a name is checked, so option dataclasses can name `check_device`
without slowing down `genvision --help`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from genvision.errors import GenvisionError

if TYPE_CHECKING:
    import torch

ACCEPTED = "auto, cpu, cuda, cuda:N, mps"


def check_device(name: str, option: str = "--device") -> None:
    """One-line GenvisionError unless `name` is a device this torch can use now: auto, cpu, cuda[:N] with CUDA
    built in and that GPU visible, mps where available. Other torch device types (meta, xla, ...) are refused:
    genvision does not run on them."""
    import torch

    if name == "auto":
        return
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise GenvisionError(f"{option}={name!r} is not a device; accepted: {ACCEPTED}") from None
    if device.type == "cpu":
        return
    if device.type == "cuda":
        if torch.version.cuda is None and torch.version.hip is None:
            raise GenvisionError(f"{option}={name}: this torch {torch.__version__} is built without CUDA; "
                                 "use --device=cpu (or auto), or install a CUDA build of torch")
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise GenvisionError(f"{option}={name}: no CUDA GPU is visible (torch.cuda.is_available() is false); "
                                 "use --device=cpu (or auto)")
        if device.index is not None and device.index >= count:
            raise GenvisionError(f"{option}={name}: only {count} CUDA GPU(s) are visible, cuda:0..cuda:{count - 1}")
        return
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise GenvisionError(f"{option}={name}: MPS is not available on this machine; use --device=cpu (or auto)")
        return
    raise GenvisionError(f"{option}={name!r}: genvision does not run on {device.type!r} devices; accepted: {ACCEPTED}")


def resolve_device(name: str = "auto", option: str = "--device") -> torch.device:
    """The torch.device for a checked name; 'auto' picks cuda, then mps, then cpu."""
    import torch

    check_device(name, option)
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def autocast_context(device: torch.device, enabled: bool):
    """bf16 autocast on CPU and CUDA when `enabled` (matmuls and convolutions in bf16, the rest fp32); a no-op
    context elsewhere. Used by training and by sampling (`--bf16`)."""
    import torch

    if not enabled or device.type not in ("cpu", "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
