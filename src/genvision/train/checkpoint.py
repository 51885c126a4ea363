"""Checkpoints: one safetensors file per step, with the run's config as JSON metadata.

A checkpoint holds the model weights, the EMA weights, the optimiser state and the RNG state, so a resumed
run continues exactly. Files are written to a temporary name, fsynced and renamed, so a kill mid-write
leaves the previous checkpoint intact. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from genvision.errors import GenvisionError

FORMAT = "genvision-checkpoint"
VERSION = "1"
_STEP_FILE = re.compile(r"^step_(\d{8})\.safetensors$")


class Checkpoint(NamedTuple):
    step: int
    config: dict[str, Any]
    model: dict[str, Tensor]
    ema: dict[str, Tensor]
    optimizer: dict[str, Any] | None  # a torch optimizer state_dict, or None in a weights-only file
    rng: dict[str, Tensor]
    extra: dict[str, Any]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file + fsync + rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    tensors: dict[str, Tensor] = {}
    meta_state: dict[str, dict[str, Any]] = {}
    for idx, pstate in state["state"].items():
        for key, value in pstate.items():
            if isinstance(value, Tensor):
                tensors[f"optim/{idx}/{key}"] = value
            else:
                meta_state.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "state": meta_state}


def _unflatten_optimizer(tensors: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for idx, entries in meta.get("state", {}).items():
        state.setdefault(int(idx), {}).update(entries)
    for name, value in tensors.items():
        _, idx, key = name.split("/", 2)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(path: Path, *, step: int, config: dict[str, Any], model: dict[str, Tensor],
                    ema: dict[str, Tensor] | None = None, optimizer: dict[str, Any] | None = None,
                    rng: dict[str, Tensor] | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Atomically write a checkpoint file. Tensors are cloned to contiguous CPU memory."""
    path = Path(path)
    tensors: dict[str, Tensor] = {}
    for prefix, sd in (("model", model), ("ema", ema or {})):
        for k, v in sd.items():
            tensors[f"{prefix}/{k}"] = v.detach().to("cpu").contiguous().clone()
    optim_meta: dict[str, Any] | None = None
    if optimizer is not None:
        opt_tensors, optim_meta = _flatten_optimizer(optimizer)
        tensors.update({k: v.detach().to("cpu").contiguous().clone() for k, v in opt_tensors.items()})
    for k, v in (rng or {}).items():
        tensors[f"rng/{k}"] = v.detach().to("cpu").contiguous().clone()
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "step": str(step),
        "config": json.dumps(config, sort_keys=True),
        "optimizer": json.dumps(optim_meta),
        "extra": json.dumps(extra or {}, sort_keys=True),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    save_file(tensors, str(tmp), metadata=metadata)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path, *, map_location: str = "cpu") -> Checkpoint:
    """Read a checkpoint; a missing, corrupt or foreign file raises a one-line GenvisionError."""
    path = Path(path)
    if not path.is_file():
        raise GenvisionError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt", device=map_location) as f:
            meta = f.metadata() or {}
            if meta.get("format") != FORMAT:
                raise GenvisionError(f"{path} is not a genvision checkpoint (no '{FORMAT}' metadata)")
            if meta.get("version") != VERSION:
                raise GenvisionError(f"{path}: unsupported checkpoint version {meta.get('version')!r}")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        config = json.loads(meta["config"])
        optim_meta = json.loads(meta.get("optimizer", "null"))
        extra = json.loads(meta.get("extra", "{}"))
        step = int(meta["step"])
    except GenvisionError:
        raise
    except Exception as exc:  # safetensors raises several types for truncated/garbled files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GenvisionError(f"checkpoint {path} is corrupt or unreadable ({msg})") from None
    groups: dict[str, dict[str, Tensor]] = {"model": {}, "ema": {}, "optim": {}, "rng": {}}
    for name, value in tensors.items():
        prefix, _, rest = name.partition("/")
        if prefix == "optim":
            groups["optim"][name] = value
        elif prefix in groups:
            groups[prefix][rest] = value
    optimizer = None if optim_meta is None else _unflatten_optimizer(groups["optim"], optim_meta)
    return Checkpoint(step, config, groups["model"], groups["ema"], optimizer, groups["rng"], extra)


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:08d}.safetensors"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Checkpoint files of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _STEP_FILE.match(p.name))


def latest_valid_checkpoint(run_dir: str | Path, *, warn=print) -> Checkpoint | None:
    """The newest checkpoint of a run that loads; corrupt newer ones are reported and skipped."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return load_checkpoint(path)
        except GenvisionError as err:
            warn(f"warning: skipping {err}")
    return None


def prune_checkpoints(run_dir: str | Path, *, keep: int) -> None:
    """Delete all but the newest `keep` checkpoint files (keep <= 0 keeps all)."""
    if keep <= 0:
        return
    for path in list_checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


def resolve_checkpoint(target: str | Path) -> Path:
    """A checkpoint file, the newest checkpoint of a run folder, or a shipped model (pretrained:NAME)."""
    from genvision import pretrained

    if pretrained.is_pretrained(target):
        return pretrained.resolve(str(target))
    target = Path(target)
    if target.is_file():
        return target
    if target.is_dir():
        found = list_checkpoints(target)
        if not found:
            raise GenvisionError(f"run folder {target} has no checkpoints")
        return found[-1]
    raise GenvisionError(f"{target} is neither a checkpoint file nor a run folder")


def export_weights(src: str | Path, dst: str | Path, *, dtype: torch.dtype | None = None) -> Path:
    """A sampling-only copy of a checkpoint: the EMA weights (or the raw ones if there is no EMA) as
    "model", no optimiser or RNG state; optionally cast to a smaller float dtype (e.g. torch.float16)."""
    state = load_checkpoint(resolve_checkpoint(src))
    weights = state.ema or state.model
    if dtype is not None:
        weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    return save_checkpoint(Path(dst), step=state.step, config=state.config, model=weights,
                           extra={**state.extra, "exported_from": str(src)})
