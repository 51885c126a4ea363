"""The evaluation classifier as a feature extractor, and cached reference statistics of real data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.eval.frechet import FeatureStats, gaussian_stats
from genvision.train.checkpoint import resolve_checkpoint


class ClassifierOutputs(NamedTuple):
    features: Tensor  # (N, D) float32, penultimate layer
    logits: Tensor  # (N, K)


def default_classifier_path(data: str) -> Path:
    return Path("runs") / f"eval-classifier-{data}"


def load_classifier(target: str | Path | None, *, data: str = "mnist5k"):
    """The evaluation classifier of a run folder / checkpoint (default: runs/eval-classifier-DATA)."""
    from genvision.models import load_model

    path = Path(target) if target else default_classifier_path(data)
    if not path.exists():
        raise GenvisionError(
            f"no evaluation classifier at {path}: train one with `genvision train eval-classifier "
            f"--data={data} --name=eval-classifier-{data}` or pass --classifier=PATH")
    model, config = load_model(path)
    if config["model"] != "eval-classifier":
        raise GenvisionError(f"{path} is a {config['model']!r} run, not an eval-classifier")
    return model, resolve_checkpoint(path)


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


class ReferenceStats(NamedTuple):
    stats: FeatureStats
    features: Tensor  # (N, D), kept for KID and precision/recall


def reference_stats(classifier, classifier_ckpt: Path, *, data: str, split: str,
                    data_dir: str | None = None) -> ReferenceStats:
    """Features of a real split, cached beside the classifier checkpoint per (dataset, split, checkpoint)."""
    cache = classifier_ckpt.parent.parent / "refstats" / f"{data}-{split}-{classifier_ckpt.stem}.safetensors"
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
