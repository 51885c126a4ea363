"""Train, export and measure the shipped models: `python -m genvision.pretrained.build NAME ... | all`.

For each NAME (catalog order, so a prior's first stage is built before it):
  1. train: `genvision train MODEL --preset=mnist --runs_dir=runs/pretrained --name=NAME [train_args]
     [--KEY=pretrained:DEP]` in a subprocess, timed (or --from=RUN: export a run trained before);
  2. export: EMA weights (parameters in fp16, buffers such as noise schedules and codebooks in fp32) and the
     config into genvision/pretrained/weights/NAME.safetensors, atomically;
  3. measure: each eval of the catalog entry on pretrained:NAME (scored with the shipped eval classifier),
     and the quick `check` eval the test suite repeats;
  4. write NAME.json: command, commit, device, training time, metrics, check, training curve.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from genvision import pretrained
from genvision.errors import GenvisionError
from genvision.pretrained import PretrainedSpec
from genvision.train.integrity import file_sha256
from genvision.train.run_folder import run_folder, training_curve

RUNS_DIR = Path("runs") / "pretrained"
CLASSIFIER = "pretrained:eval-classifier-mnist"


def train_command(spec: PretrainedSpec) -> list[str]:
    deps = [f"--{key}={pretrained.PREFIX}{dep}" for key, dep in spec.depends]
    return ["genvision", "train", spec.model, f"--preset={spec.preset}", f"--runs_dir={RUNS_DIR}",
            f"--name={spec.name}", *spec.train_args, *deps]


def train(spec: PretrainedSpec) -> tuple[Path, float]:
    run_dir = RUNS_DIR / spec.name
    if run_dir.exists():
        raise GenvisionError(f"{run_dir} exists: remove it to retrain, or pass --from={run_dir} to export it")
    for _, dep in spec.depends:
        pretrained.resolve(pretrained.PREFIX + dep)  # clear error before training if the first stage is missing
    cmd = train_command(spec)
    print("$ " + shlex.join(cmd), flush=True)
    t0 = time.time()
    done = subprocess.run([sys.executable, "-m", "genvision.cli", *cmd[1:]])
    seconds = time.time() - t0
    if done.returncode != 0:
        raise GenvisionError(f"training {spec.name} failed (exit {done.returncode})")
    print(f"[{spec.name}] trained in {seconds:.0f} s", flush=True)
    return run_dir, seconds


def export(spec: PretrainedSpec, run: Path) -> Path:
    """The run's newest checkpoint -> weights/NAME.safetensors (sampling-only, fp16 parameters)."""
    from genvision.loading import build_from_config
    from genvision.train.checkpoint import load_target, save_checkpoint

    _, state = load_target(run)
    config = json.loads(json.dumps(state.config))
    for key, dep in spec.depends:  # the frozen first stage is the shipped one
        config["model_config"][key] = pretrained.PREFIX + dep
    params = {name for name, _ in build_from_config(config).named_parameters()}
    weights = state.ema or state.model
    weights = {k: (v.half() if k in params and v.is_floating_point() else v).contiguous() for k, v in weights.items()}
    pretrained.WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(pretrained.weights_path(spec.name), step=state.step, config=config, model=weights,
                           extra={"pretrained": spec.name, "exported_from": str(run)})


def _with_classifier(spec: PretrainedSpec, args: tuple[str, ...]) -> list[str]:
    return [*args, f"--classifier={CLASSIFIER}"] if spec.scored else list(args)


def measure(spec: PretrainedSpec, args: tuple[str, ...], work: Path) -> dict[str, Any]:
    from genvision.eval.run import evaluate_target

    result, _ = evaluate_target(pretrained.PREFIX + spec.name, [*_with_classifier(spec, args),
                                                                 f"--out={work / 'eval.json'}"])
    return {k: v for k, v in result.items() if k not in ("target", "seconds", "split")}


def eval_command(spec: PretrainedSpec, args: tuple[str, ...]) -> str:
    return shlex.join(["genvision", "eval", pretrained.PREFIX + spec.name, *_with_classifier(spec, args)])


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(spec: PretrainedSpec, *, from_run: Path | None = None, train_seconds: float | None = None,
          train_device: str | None = None, train_note: str = "") -> dict[str, Any]:
    t_start = time.time()
    if from_run is None:
        run, train_seconds = train(spec)
    else:
        run = from_run
    path = export(spec, run)
    info_path = pretrained.info_path(spec.name)
    if info_path.exists():  # the measurements below load pretrained:NAME, which checks the recorded hash
        old = json.loads(info_path.read_text())
        info_path.write_text(json.dumps({**old, "weights_sha256": file_sha256(path)}, indent=1) + "\n")
    from genvision.loading import load_model

    model, config = load_model(path)
    with tempfile.TemporaryDirectory() as tmp:
        metrics: dict[str, Any] = {}
        for args in spec.eval_args:
            t0 = time.time()
            got = measure(spec, args, Path(tmp))
            print(f"[{spec.name}] {eval_command(spec, args)}: {time.time() - t0:.0f} s", flush=True)
            tag = next((a.split("=", 1)[1] for a in args if a.startswith("--guidance_weight=")), None)
            metrics.update({(f"{k}@w={tag}" if tag else k): v for k, v in got.items()})
        check = measure(spec, spec.check_args, Path(tmp))
    info = {
        "name": spec.name,
        "model": spec.model,
        "preset": spec.preset,
        "description": spec.description,
        "command": shlex.join(train_command(spec)),
        "seed": config["train"]["seed"],
        "steps": config["train"]["steps"],
        "commit": commit(),
        "train_device": train_device or _device(config["train"].get("device", "cpu")),
        "train_seconds": None if train_seconds is None else round(train_seconds, 1),
        "train_note": train_note,
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_bytes": path.stat().st_size,
        "weights_sha256": file_sha256(path),
        "dtype": "float16 parameters, float32 buffers",
        "eval_commands": [eval_command(spec, args) for args in spec.eval_args],
        "metrics": metrics,
        "check": {"args": _with_classifier(spec, spec.check_args), "metrics": _scalars(check)},
        "curve": training_curve(run_folder(run)),
        "build_seconds": round(time.time() - t_start, 1),
    }
    pretrained.info_path(spec.name).write_text(json.dumps(info, indent=1) + "\n")
    print(f"[{spec.name}] wrote {path} ({path.stat().st_size / 1e6:.2f} MB) and {pretrained.info_path(spec.name)}")
    return info


def _device(configured: str) -> str:
    """The device a run with this config trained on ("auto" resolves as the trainer does)."""
    if configured != "auto":
        return configured
    import torch

    return "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"


def _scalars(d: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in d.items() if isinstance(v, int | float) and not isinstance(v, bool)
            and k not in ("n", "sample_seconds")}


def main(argv: list[str] | None = None) -> int:
    from genvision.config import parse_key_values

    argv = list(sys.argv[1:] if argv is None else argv)
    names = [a for a in argv if not a.startswith("--")]
    opts = parse_key_values([a for a in argv if a.startswith("--")])
    try:
        if not names:
            raise GenvisionError("usage: python -m genvision.pretrained.build NAME ...|all [--from=RUN "
                                 "--train_seconds=S --train_device=D --train_note=TEXT]; names: "
                                 + ", ".join(s.name for s in pretrained.CATALOG))
        specs = list(pretrained.CATALOG) if names == ["all"] else [pretrained.spec(n) for n in names]
        from_run = Path(opts.pop("from")) if "from" in opts else None
        if from_run is not None and len(specs) != 1:
            raise GenvisionError("--from=RUN exports one model: name exactly one")
        seconds = float(opts.pop("train_seconds")) if "train_seconds" in opts else None
        device, note = opts.pop("train_device", None), opts.pop("train_note", "")
        if opts:
            raise GenvisionError(f"unknown options: {', '.join('--' + k for k in opts)}")
        for spec in specs:
            build(spec, from_run=from_run, train_seconds=seconds, train_device=device, train_note=note)
    except GenvisionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
