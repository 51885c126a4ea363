"""Checkpoints: one safetensors file per step, with the run's config as JSON metadata.

A checkpoint holds the model weights, the EMA weights, the optimiser state and the RNG state, so a resumed
run continues exactly. Nothing is ever unpickled. Format 2 adds integrity:
  - `sha256`: a content hash of every tensor and metadata entry (train/integrity.py), computed on write and
    checked on load, so a flipped bit anywhere in the file is reported;
  - `family`: the model family (the config's "model"), checked against the config and the run folder;
  - weights with a NaN or an inf are refused at save time (a diverged run keeps its last good checkpoint).
Files are written to a temporary name `.NAME.tmpPID`, fsynced and renamed, so a kill mid-write leaves the
previous checkpoint intact; the orphaned temporary file is removed when a run next starts (clean_orphans).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

from genvision.errors import GenvisionError
from genvision.train.integrity import HASH_KEY, content_hash, first_non_finite

FORMAT = "genvision-checkpoint"
VERSION = "2"
LEGACY_VERSIONS = ("1",)  # readable, with a warning: written before checkpoints carried a content hash
_STEP_FILE = re.compile(r"^step_(\d{8})\.safetensors$")
_TMP_FILE = re.compile(r"^\..+\.tmp(\d+)$")

Warn = Callable[[str], None]


def warn_stderr(message: str) -> None:
    """The default sink of one-line warnings (stdout stays for results)."""
    print(message, file=sys.stderr)


class Checkpoint(NamedTuple):
    step: int
    config: dict[str, Any]
    model: dict[str, Tensor]
    ema: dict[str, Tensor]
    optimizer: dict[str, Any] | None  # a torch optimizer state_dict, or None in a weights-only file
    rng: dict[str, Tensor]
    extra: dict[str, Any]


class NonFiniteWeights(GenvisionError):
    """Raised by save_checkpoint instead of writing weights that hold a NaN or an inf."""


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file + fsync + rename."""
    path = Path(path)
    tmp = _tmp_name(path)
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


def family_of(config: Any) -> str:
    """The model family a run config names ("" for configs without one, e.g. in tests)."""
    return str(config.get("model", "")) if isinstance(config, dict) else ""


def save_checkpoint(path: Path, *, step: int, config: dict[str, Any], model: dict[str, Tensor],
                    ema: dict[str, Tensor] | None = None, optimizer: dict[str, Any] | None = None,
                    rng: dict[str, Tensor] | None = None, extra: dict[str, Any] | None = None) -> Path:
    """Atomically write a checkpoint file. Tensors are cloned to contiguous CPU memory.

    Raises NonFiniteWeights (and writes nothing) when a weight holds a NaN or an inf."""
    path = Path(path)
    tensors: dict[str, Tensor] = {}
    for prefix, sd in (("model", model), ("ema", ema or {})):
        for k, v in sd.items():
            tensors[f"{prefix}/{k}"] = v.detach().to("cpu").contiguous().clone()
    bad = first_non_finite(tensors)
    if bad is not None:
        raise NonFiniteWeights(f"step {step}: weight {bad!r} holds NaN or inf; not writing {path.name}")
    optim_meta: dict[str, Any] | None = None
    if optimizer is not None:
        opt_tensors, optim_meta = _flatten_optimizer(optimizer)
        tensors.update({k: v.detach().to("cpu").contiguous().clone() for k, v in opt_tensors.items()})
    for k, v in (rng or {}).items():
        tensors[f"rng/{k}"] = v.detach().to("cpu").contiguous().clone()
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "family": family_of(config),
        "step": str(step),
        "config": json.dumps(config, sort_keys=True),
        "optimizer": json.dumps(optim_meta),
        "extra": json.dumps(extra or {}, sort_keys=True),
    }
    metadata[HASH_KEY] = content_hash(tensors, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Serialise in memory and write through our own temp name: safetensors' save_file writes via a temp file
    # of its own (".tmpXXXXXX", Rust's tempfile), which a kill mid-write would leave behind unrecognised.
    atomic_write_bytes(path, safetensors_bytes(tensors, metadata=metadata))
    return path


def _read(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    """Metadata and tensors of a safetensors file; any parse failure is one GenvisionError."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            if meta.get("format") != FORMAT:
                raise GenvisionError(f"{path} is not a genvision checkpoint (no '{FORMAT}' metadata)")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except GenvisionError:
        raise
    except Exception as exc:  # safetensors raises several types for truncated/garbled files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GenvisionError(f"checkpoint {path} is corrupt or unreadable ({msg})") from None
    return meta, tensors


def _json_entry(meta: dict[str, str], key: str, path: Path, default: str | None = None) -> Any:
    if key not in meta and default is None:
        raise GenvisionError(f"checkpoint {path} is corrupt: metadata lacks {key!r}")
    try:
        return json.loads(meta.get(key, default))
    except (json.JSONDecodeError, TypeError):
        raise GenvisionError(f"checkpoint {path} is corrupt: metadata {key!r} is not valid JSON") from None


def load_checkpoint(path: str | Path, *, map_location: str = "cpu", warn: Warn = warn_stderr) -> Checkpoint:
    """Read and verify a checkpoint; a missing, corrupt, tampered or foreign file raises a one-line
    GenvisionError (a format-1 file, which has no hash to check, loads with a warning)."""
    path = Path(path)
    if not path.is_file():
        raise GenvisionError(f"checkpoint {path} does not exist")
    meta, tensors = _read(path)
    version = meta.get("version")
    if version in LEGACY_VERSIONS:
        warn(f"warning: {path} is a format-{version} checkpoint without a content hash: its integrity is unchecked")
    elif version != VERSION:
        raise GenvisionError(f"{path}: unsupported checkpoint version {version!r}")
    elif HASH_KEY not in meta:
        raise GenvisionError(f"checkpoint {path} is corrupt: metadata lacks its content hash {HASH_KEY!r}")
    elif content_hash(tensors, meta) != meta[HASH_KEY]:
        raise GenvisionError(f"checkpoint {path} is corrupt: its content does not match its SHA-256 hash")
    config = _json_entry(meta, "config", path)
    if not isinstance(config, dict):
        raise GenvisionError(f"checkpoint {path}: its config is a {type(config).__name__}, not a JSON object")
    if version == VERSION and meta.get("family") != family_of(config):
        raise GenvisionError(f"checkpoint {path}: family {meta.get('family')!r} disagrees with its config's "
                             f"model {family_of(config)!r}")
    optim_meta = _json_entry(meta, "optimizer", path, "null")
    extra = _json_entry(meta, "extra", path, "{}")
    try:
        step = int(meta["step"])
    except (KeyError, ValueError):
        raise GenvisionError(f"checkpoint {path} is corrupt: bad or missing step {meta.get('step')!r}") from None
    bad = first_non_finite(tensors)
    if bad is not None:
        raise GenvisionError(f"checkpoint {path}: weight {bad!r} holds NaN or inf")
    groups: dict[str, dict[str, Tensor]] = {"model": {}, "ema": {}, "optim": {}, "rng": {}}
    for name, value in tensors.items():
        prefix, _, rest = name.partition("/")
        value = value if map_location == "cpu" else value.to(map_location)
        if prefix == "optim":
            groups["optim"][name] = value
        elif prefix in groups:
            groups[prefix][rest] = value
    try:
        optimizer = None if optim_meta is None else _unflatten_optimizer(groups["optim"], optim_meta)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise GenvisionError(f"checkpoint {path} is corrupt: malformed optimiser state") from None
    return Checkpoint(step, config, groups["model"], groups["ema"], optimizer, groups["rng"], extra)


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:08d}.safetensors"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Checkpoint files of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _STEP_FILE.match(p.name))


def newest_valid_checkpoint(run_dir: str | Path, *, warn: Warn = warn_stderr) -> tuple[Path, Checkpoint] | None:
    """The newest checkpoint of a run that loads and verifies; each newer one that does not is skipped with a
    one-line warning naming it."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return path, load_checkpoint(path, warn=warn)
        except GenvisionError as err:
            warn(f"warning: skipping {err}")
    return None


def latest_valid_checkpoint(run_dir: str | Path, *, warn: Warn = warn_stderr) -> Checkpoint | None:
    """newest_valid_checkpoint without the path."""
    found = newest_valid_checkpoint(run_dir, warn=warn)
    return None if found is None else found[1]


def _is_valid(path: Path) -> bool:
    try:
        load_checkpoint(path, warn=lambda _: None)
        return True
    except GenvisionError:
        return False


def prune_checkpoints(run_dir: str | Path, *, keep: int) -> list[Path]:
    """Delete all but the newest `keep` checkpoint files (keep <= 0 keeps all), never the newest valid one:
    when none of the newest `keep` verifies, the newest older file that does is kept as well.
    Returns the deleted paths."""
    if keep <= 0:
        return []
    files = list_checkpoints(run_dir)
    kept, older = files[-keep:], files[:-keep]
    if not any(_is_valid(p) for p in reversed(kept)):
        for i in range(len(older) - 1, -1, -1):
            if _is_valid(older[i]):
                older = older[:i] + older[i + 1:]
                break
    for path in older:
        path.unlink(missing_ok=True)
    return older


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_orphans(run_dir: str | Path) -> list[Path]:
    """Remove the temporary files (.NAME.tmpPID) that writers killed mid-write left in a run folder and its
    checkpoints/ (those of a live process are left alone). Returns the removed paths."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            m = _TMP_FILE.match(p.name)
            if m and p.is_file() and (int(m.group(1)) == os.getpid() or not _pid_alive(int(m.group(1)))):
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def run_family(run_dir: str | Path) -> str | None:
    """The model family RUN/config.json names, or None when it is missing or unreadable."""
    try:
        return family_of(json.loads((Path(run_dir) / "config.json").read_text())) or None
    except (OSError, ValueError):
        return None


def check_family(path: Path, state: Checkpoint, run_dir: Path) -> None:
    """A checkpoint in a run folder must be of the run's family (RUN/config.json), if the run names one."""
    expected, found = run_family(run_dir), family_of(state.config)
    if expected and found != expected:
        raise GenvisionError(f"{path} is a {found!r} checkpoint but {run_dir} is a {expected!r} run "
                             f"(config.json); refusing to mix models")


def resolve_checkpoint(target: str | Path) -> Path:
    """A checkpoint file, or the newest checkpoint of a run folder. (Shipped models, `pretrained:NAME`, are
    resolved one layer up, in genvision.loading: this module knows only files.)"""
    target = Path(target)
    if target.is_file():
        return target
    if target.is_dir():
        found = list_checkpoints(target)
        if not found:
            raise GenvisionError(f"run folder {target} has no checkpoints")
        return found[-1]
    raise GenvisionError(f"{target} is neither a checkpoint file nor a run folder")


def load_target(target: str | Path, *, warn: Warn = warn_stderr) -> tuple[Path, Checkpoint]:
    """The checkpoint of a file as named (no fallback), or the newest *valid* checkpoint of a run folder (newer
    broken ones skipped with a warning each), which must be of the run's family."""
    if not Path(target).is_dir():
        path = resolve_checkpoint(target)
        return path, load_checkpoint(path, warn=warn)
    run_dir = Path(target)
    if not list_checkpoints(run_dir):
        raise GenvisionError(f"run folder {run_dir} has no checkpoints")
    found = newest_valid_checkpoint(run_dir, warn=warn)
    if found is None:
        raise GenvisionError(f"run folder {run_dir} has no valid checkpoint (every one was skipped)")
    check_family(found[0], found[1], run_dir)
    return found


def export_weights(src: str | Path, dst: str | Path, *, dtype: torch.dtype | None = None) -> Path:
    """A sampling-only copy of a checkpoint: the EMA weights (or the raw ones if there is no EMA) as
    "model", no optimiser or RNG state; optionally cast to a smaller float dtype (e.g. torch.float16)."""
    _, state = load_target(src)
    weights = state.ema or state.model
    if dtype is not None:
        weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    return save_checkpoint(Path(dst), step=state.step, config=state.config, model=weights,
                           extra={**state.extra, "exported_from": str(src)})
