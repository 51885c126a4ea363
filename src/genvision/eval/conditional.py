"""Conditional metrics: classifier accuracy on class-conditional samples, and Classification Accuracy Score."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from genvision.data.dataset import ImageDataset, to_uint8


class ClassAccuracy(NamedTuple):
    overall: float
    per_class: list[float]  # NaN for classes with no samples


def class_accuracy(logits: Tensor, labels: Tensor, num_classes: int) -> ClassAccuracy:
    """Accuracy of argmax(logits) against the requested labels, overall and per class."""
    pred = logits.argmax(1).cpu()
    labels = labels.cpu()
    correct = (pred == labels).float()
    per = []
    for k in range(num_classes):
        sel = labels == k
        per.append(float(correct[sel].mean()) if sel.any() else float("nan"))
    return ClassAccuracy(float(correct.mean()), per)


def classification_accuracy_score(images: Tensor, labels: Tensor, real_test: ImageDataset, *,
                                  steps: int = 600, width: int = 32, seed: int = 0) -> float:
    """CAS (Ravuri & Vinyals 2019): train a fresh classifier on generated (images, labels) only and
    report its accuracy on real held-out data. images: (N, C, H, W) in [-1, 1]; labels: (N,)."""
    from genvision.eval.classifier import ClassifierConfig, EvalClassifier
    from genvision.train.config import TrainConfig
    from genvision.train.trainer import Trainer

    torch.manual_seed(seed)
    synthetic = ImageDataset(to_uint8(images), labels.long().cpu(), real_test.num_classes, "generated")
    model = EvalClassifier(ClassifierConfig(width=width), synthetic.image_shape, real_test.num_classes)
    cfg = TrainConfig(steps=steps, batch_size=min(128, len(synthetic)), lr=2e-3, warmup_steps=50,
                      progress=False, val_every=0, ckpt_every=0, log_every=10**9, seed=seed, device="cpu")
    trainer = Trainer(model, synthetic, config=cfg)
    trainer.fit()
    clf = trainer.ema.model.eval()
    with torch.no_grad():
        pred = torch.cat([clf(x).argmax(1) for x in real_test.float_images().split(500)])
    return float((pred == real_test.labels).float().mean())
