"""The evaluation classifier as a feature extractor, and cached reference statistics of real data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from genvision import pretrained
from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.eval.frechet import FeatureStats, gaussian_stats


class ClassifierOutputs(NamedTuple):
    features: Tensor  # (N, D) float32, penultimate layer
    logits: Tensor  # (N, K)


def default_classifier_path(data: str) -> Path | str:
    """runs/eval-classifier-DATA if it was trained here, else the shipped classifier for mnist5k."""
    local = Path("runs") / f"eval-classifier-{data}"
    if not local.exists() and data == "mnist5k" and "eval-classifier-mnist" in pretrained.shipped():
        return "pretrained:eval-classifier-mnist"
    return local


class LoadedClassifier(NamedTuple):
    model: torch.nn.Module
    checkpoint: Path  # the file its weights came from
    source: str  # what was asked for or picked: pretrained:NAME, a run folder or a checkpoint (eval records it)


def load_classifier(target: str | Path | None, *, data: str = "mnist5k") -> LoadedClassifier:
    """The evaluation classifier of a run folder / checkpoint / pretrained:NAME (default: runs/eval-classifier-DATA,
    or the shipped one when that was never trained)."""
    from genvision.loading import load_model, resolve_target

    path = target or default_classifier_path(data)
    source = str(path) + ("" if target else " (the default for " + data + ")")
    if not (pretrained.is_pretrained(path) or Path(path).exists()):
        raise GenvisionError(
            f"no evaluation classifier at {path}: train one with `genvision train eval-classifier "
            f"--data={data} --name=eval-classifier-{data}` or pass --classifier=PATH")
    model, _ = load_model(path, expect="eval-classifier")
    return LoadedClassifier(model, resolve_target(path), source)


@torch.no_grad()
def classify(classifier, images: Tensor, *, batch_size: int = 500) -> ClassifierOutputs:
    """images: (N, C, H, W) in [-1, 1] -> penultimate features and logits."""
    feats, logits = [], []
    classifier.eval()
    for chunk in images.split(batch_size):
        f = classifier.features(chunk.float())
        feats.append(f)
        logits.append(classifier.head(f))
    return ClassifierOutputs(torch.cat(feats), torch.cat(logits))


def refstats_dir(classifier_ckpt: Path) -> Path:
    """Beside the classifier's run folder; for a shipped classifier (read-only package) the user cache,
    $GENVISION_CACHE or ~/.cache/genvision."""
    if classifier_ckpt.resolve().parent == pretrained.WEIGHTS_DIR.resolve():
        return Path(os.environ.get("GENVISION_CACHE", Path.home() / ".cache" / "genvision")) / "refstats"
    return classifier_ckpt.parent.parent / "refstats"


class ReferenceStats(NamedTuple):
    stats: FeatureStats
    features: Tensor  # (N, D), kept for KID and precision/recall


def reference_stats(classifier, classifier_ckpt: Path, *, data: str, split: str,
                    data_dir: str | None = None) -> ReferenceStats:
    """Features of a real split, cached beside the classifier checkpoint per (dataset, split, checkpoint)."""
    name = f"{data}-{split}-{classifier_ckpt.stem}-{classifier_ckpt.stat().st_size}.safetensors"
    cache = refstats_dir(classifier_ckpt) / name
    if cache.exists():
        try:
            t = load_file(str(cache))
            return ReferenceStats(FeatureStats(t["mean"], t["cov"]), t["features"])
        except Exception:
            pass  # a damaged cache is recomputed
    real = load_dataset(data, split=split, data_dir=data_dir)
    feats = classify(classifier, real.float_images()).features
    stats = gaussian_stats(feats)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    save_file({"mean": stats.mean.contiguous(), "cov": stats.cov.contiguous(), "features": feats.contiguous()},
              str(tmp), metadata={"info": json.dumps({"data": data, "split": split})})
    tmp.replace(cache)
    return ReferenceStats(stats, feats)
