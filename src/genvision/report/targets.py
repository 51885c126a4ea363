"""What a report is made of: each target (run folder, checkpoint or pretrained:NAME) loaded once, with its
stored metrics, training curve and provenance; and the options shared by every section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from genvision import pretrained
from genvision.errors import GenvisionError
from genvision.protocols import num_labels


class ReportTarget(NamedTuple):
    """One model of the report.

    target: as given (a path or pretrained:NAME); name: unique file-name stem for its figures;
    metrics: stored evaluation (pretrained JSON or RUN/eval.json), never re-measured;
    curve: training log rows {"step", "loss", "lr"} and rows with "val/..." keys, by step;
    facts: (label, text) provenance lines (command, training time and device, parameters)."""

    target: str
    name: str
    description: str
    model: nn.Module
    config: dict[str, Any]
    metrics: dict[str, Any]
    curve: list[dict[str, Any]]
    facts: list[tuple[str, str]]

    @property
    def kind(self) -> str:
        """The registry name of the model ("ddpm", "cfg", "vqvae", ...)."""
        return str(self.config["model"])

    @property
    def num_classes(self) -> int:
        """Class labels the model's sample() takes (0: not class-conditional)."""
        return num_labels(self.model)

    @property
    def data(self) -> str:
        return str(self.config["data"]["data"])


class ReportOptions(NamedTuple):
    """n: images per sample grid; steps: DDIM steps of every diffusion figure; measure: run the small guidance
    sweeps (slow) instead of plotting only stored metrics."""

    out_dir: Path
    n: int = 16
    seed: int = 0
    steps: int = 10
    measure: bool = False

    def figure_path(self, target: ReportTarget, figure: str) -> Path:
        """out_dir/NAME-FIGURE.png: every picture lies beside index.html."""
        return self.out_dir / f"{target.name}-{figure}.png"


def default_targets() -> list[str]:
    """Every shipped pretrained model, in catalog order."""
    return [pretrained.PREFIX + name for name in pretrained.shipped()]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "model"


def _run_curve(run: Path) -> tuple[list[dict[str, Any]], str]:
    """(training curve, a note when the log cannot be read, e.g. a line half-written by a running job)."""
    from genvision.train.run_folder import training_curve

    try:
        return training_curve(run), ""
    except (json.JSONDecodeError, KeyError) as err:
        return [], f"{run / 'metrics.jsonl'} unreadable ({type(err).__name__}: {err})"


def _run_metrics(run: Path) -> dict[str, Any]:
    """RUN/eval.json and the later evaluations beside it (eval-2.json, ...), merged oldest first: a metric
    measured again shows its newest value."""
    from genvision.eval.results import stored_results

    merged: dict[str, Any] = {}
    for path in stored_results(run / "eval.json"):
        try:
            stored = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise GenvisionError(f"{path}: not valid JSON ({err})") from None
        if not isinstance(stored, dict):
            raise GenvisionError(f"{path}: expected a JSON object of metrics, got {type(stored).__name__}")
        merged.update({k: v for k, v in stored.items() if k not in ("target", "split")})
    return merged


def _count(model: nn.Module) -> str:
    return f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M"


def _pretrained_facts(info: dict[str, Any], model: nn.Module) -> list[tuple[str, str]]:
    """Provenance lines from a shipped model's JSON: command, training time and device, size, eval commands."""
    facts = [("training command", str(info.get("command", "-"))), ("training time", pretrained.train_time(info)),
             ("parameters", f"{_count(model)}, weights {info.get('weights_bytes', 0) / 1e6:.2f} MB")]
    if info.get("train_note"):
        facts.append(("note", str(info["train_note"])))
    return facts + [("evaluated with", str(cmd)) for cmd in info.get("eval_commands", [])]


def load_target(target: str) -> ReportTarget:
    """Load a model and what is stored about it; an unknown target raises a one-line GenvisionError."""
    from genvision.loading import load_model
    from genvision.models import get_entry
    from genvision.train.run_folder import run_folder

    model, config = load_model(target)
    if pretrained.is_pretrained(target):
        name = target[len(pretrained.PREFIX):]
        info = pretrained.info(name)
        return ReportTarget(target, _slug(name), str(info.get("description", "")), model, config,
                            dict(info.get("metrics", {})), list(info.get("curve", [])), _pretrained_facts(info, model))
    run = run_folder(Path(target))
    curve, problem = _run_curve(run)
    facts = [("run folder", str(run)), ("preset", str(config.get("preset") or "-")),
             ("training steps", str(config["train"].get("steps", "?"))), ("parameters", _count(model))]
    if problem:
        facts.append(("training curve", problem))
    in_run = Path(target).is_dir() or Path(target).parent.name == "checkpoints"
    return ReportTarget(target, _slug(run.name if in_run else Path(target).stem),
                        get_entry(config["model"]).description, model, config, _run_metrics(run), curve, facts)


def load_targets(targets: list[str]) -> list[ReportTarget]:
    """Load every target before any figure is drawn, so that a bad one fails fast; names made unique."""
    loaded, seen = [], set()
    for target in targets:
        t = load_target(target)
        name, i = t.name, 2
        while name in seen:
            name, i = f"{t.name}-{i}", i + 1
        seen.add(name)
        loaded.append(t._replace(name=name))
    return loaded


def held_out_images(t: ReportTarget, n: int, *, seed: int) -> tuple[Tensor, Tensor]:
    """n held-out images (n, C, H, W) in [-1, 1] drawn at random (seeded: the split is sorted by class), through
    the run's own data transform, and their labels (n,)."""
    from genvision.data import load_dataset
    from genvision.eval.scoring import eval_images

    data_dir = t.config["data"].get("data_dir") or None
    x = eval_images(t.config, data=t.data, split="val", n=10**9, data_dir=data_dir)
    labels = load_dataset(t.data, split="val", data_dir=data_dir).labels
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return x[pick], labels[pick]
