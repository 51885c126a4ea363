"""Validation scores a class-balanced, seeded subset of the split, not its first images (a split sorted by
label would give a few classes: the tiny preset validated classes 0-5 only)."""

from __future__ import annotations

import torch
from tiny_models import TinyClassifier

from genvision.data.dataset import ImageDataset
from genvision.data.splits import balanced_subset
from genvision.train.config import TrainConfig
from genvision.train.trainer import Trainer


def _sorted_split(per_class: int = 10, classes: int = 10) -> ImageDataset:
    labels = torch.arange(classes).repeat_interleave(per_class)
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (len(labels), 1, 8, 8), dtype=torch.uint8, generator=gen)
    return ImageDataset(images, labels, classes, "sorted")


def test_balanced_subset_takes_every_class_in_turn():
    labels = torch.arange(5).repeat_interleave(20)  # sorted: the first 12 would be class 0 only
    idx = balanced_subset(100, 12, labels=labels, seed=3)
    counts = torch.bincount(labels[idx], minlength=5)
    assert len(idx) == len(set(idx.tolist())) == 12 and sorted(counts.tolist()) == [2, 2, 2, 3, 3]
    assert set(labels[idx[:5]].tolist()) == set(range(5))  # the first batch of five holds one of each
    assert torch.equal(idx, balanced_subset(100, 12, labels=labels, seed=3))
    assert not torch.equal(idx, balanced_subset(100, 12, labels=labels, seed=4))


def test_balanced_subset_when_a_class_runs_out_and_without_labels():
    labels = torch.tensor([0] * 10 + [1] * 2)
    idx = balanced_subset(12, 8, labels=labels, seed=0)
    assert torch.bincount(labels[idx]).tolist() == [6, 2]
    unlabelled = balanced_subset(12, 8, seed=0).tolist()
    assert len(set(unlabelled)) == 8 and sorted(unlabelled) != list(range(8))  # a shuffle, not the first 8
    assert torch.equal(balanced_subset(12, 50, labels=labels), torch.arange(12))


def test_the_trainer_validates_every_class_of_a_label_sorted_split():
    val = _sorted_split()
    cfg = TrainConfig(steps=1, batch_size=8, val_batches=2, bf16=False, progress=False, device="cpu")
    trainer = Trainer(TinyClassifier(), val, config=cfg, val_data=val)
    idx = trainer.validation_index()
    assert len(idx) == 16 and set(val.labels[idx].tolist()) == set(range(10))
    assert set(val.labels[:16].tolist()) == {0, 1}  # what the first val_batches x batch images would have been
    first = trainer.validate()
    assert torch.equal(trainer.validation_index(), idx) and trainer.validate() == first
    with torch.no_grad():  # the mean loss over exactly those images (TinyClassifier's loss is deterministic)
        losses = [float(trainer.ema.model.loss(trainer.make_batch(val, part))["loss"]) for part in idx.split(8)]
    assert abs(first["val/loss"] - sum(losses) / len(losses)) < 1e-6
