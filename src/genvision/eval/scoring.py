"""Scoring images against a real split in the evaluation classifier's features (Frechet distance, KID,
precision/recall, class accuracy, CAS), and the held-out images every model is scored on."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

GENERATIVE_DEFAULT = ("fid", "kid", "pr", "accuracy")


def score_images(images: Tensor, labels: Tensor | None, *, metrics: list[str], data: str, split: str,
                 classifier_path: str | None, data_dir: str | None = None) -> dict[str, Any]:
    """Distribution and conditional metrics of images against the real split, in classifier features; the key
    `eval_classifier` records which evaluation classifier scored them."""
    from genvision.data import load_dataset
    from genvision.eval.conditional import class_accuracy, classification_accuracy_score
    from genvision.eval.features import classify, load_classifier, reference_stats
    from genvision.eval.frechet import frechet_distance, gaussian_stats
    from genvision.eval.kid import kernel_inception_distance
    from genvision.eval.precision_recall import precision_recall

    clf, clf_ckpt, source = load_classifier(classifier_path, data=data)
    result: dict[str, Any] = {"eval_classifier": source}
    out = classify(clf, images)
    if {"fid", "kid", "pr"} & set(metrics):
        ref = reference_stats(clf, clf_ckpt, data=data, split=split, data_dir=data_dir)
        if "fid" in metrics:
            result["frechet_distance"] = frechet_distance(gaussian_stats(out.features), ref.stats)
        if "kid" in metrics:
            kid = kernel_inception_distance(out.features, ref.features, subset_size=min(500, len(images)),
                                            generator=torch.Generator().manual_seed(0))
            result["kid"] = kid.mean
            result["kid_std"] = kid.std
        if "pr" in metrics:
            pr = precision_recall(ref.features, out.features, k=3)
            result["precision"], result["recall"] = pr.precision, pr.recall
    if "accuracy" in metrics and labels is not None:
        acc = class_accuracy(out.logits, labels, out.logits.shape[1])
        result["accuracy"] = acc.overall
        result["accuracy_per_class"] = acc.per_class
    if "cas" in metrics and labels is not None:
        result["cas"] = classification_accuracy_score(images, labels, load_dataset(data, split=split,
                                                                                   data_dir=data_dir))
    return result


def eval_images(config: dict[str, Any], *, data: str, split: str, n: int, data_dir: str | None) -> Tensor:
    """The first n images of a real split, put through the run's own data transform (e.g. binarisation)
    with a fixed seed, so every model and baseline is scored on the same held-out data."""
    from genvision.config import from_dict
    from genvision.data import DataConfig, load_dataset

    x = load_dataset(data, split=split, data_dir=data_dir).float_images()[:n]
    transform = from_dict(DataConfig, config.get("data", {})).batch_transform()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)
        return transform(x, torch.Generator().manual_seed(1234))
