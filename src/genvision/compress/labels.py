"""Which labels go with the images of a file, and how they are paid for.

- "none": no labels (unconditional model, none given);
- "null": a classifier-free-trained model coded with its null label: -log2 p(x) bits, nothing stored;
- "coded": labels stored in the stream at log2(classes) bits each, either given (an .npz with labels) or,
  for a class-conditional model without a null label, the label that makes each image cheapest (a two-part
  code: argmin_y -log2 p(x | y) + log2(classes), Rissanen's MDL).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from genvision.autoregressive.model import PixelCNNModel
from genvision.compress.autoregressive import best_labels
from genvision.compress.coder import Decoder, Encoder
from genvision.errors import GenvisionError


class LabelPlan(NamedTuple):
    mode: str  # "none" | "null" | "coded"
    classes: int  # alphabet of the coded labels (0 unless mode == "coded")
    stored: Tensor | None  # (N,) the labels stored in the file (returned by decompress)
    for_model: Tensor | None  # (N,) the labels the model is conditioned on


def plan_labels(model: PixelCNNModel | None, values: Tensor | None, given: Tensor | None, n: int, *,
                batch: int) -> LabelPlan:
    """model None: a codec without a conditional model (labels are only stored when given)."""
    classes = 0 if model is None else model.num_classes
    if given is not None:
        given = torch.as_tensor(given, dtype=torch.long)
        if given.shape != (n,) or (n and given.min() < 0):
            raise GenvisionError(f"labels must be ({n},) non-negative integers, got {tuple(given.shape)}")
        if classes and n and given.max() >= classes:
            raise GenvisionError(f"labels must lie in [0, {classes}) for this model, got up to {int(given.max())}")
        alphabet = classes or (int(given.max()) + 1 if n else 1)
        return LabelPlan("coded", alphabet, given, given if classes else None)
    if classes == 0:
        return LabelPlan("none", 0, None, None)
    if model.config.p_uncond > 0:
        return LabelPlan("null", 0, None, torch.full((n,), model.null_label, dtype=torch.long))
    chosen = best_labels(model, values, batch=batch)
    return LabelPlan("coded", classes, chosen, chosen)


def header_fields(plan: LabelPlan) -> dict:
    return {"labels": plan.mode, "label_classes": plan.classes}


def write_labels(plan: LabelPlan, enc: Encoder) -> None:
    if plan.mode == "coded":
        enc.uniform(plan.stored, plan.classes)


def read_labels(header: dict, model: PixelCNNModel | None, dec: Decoder) -> LabelPlan:
    n, mode, classes = int(header["count"]), header["labels"], int(header["label_classes"])
    if mode == "coded":
        stored = torch.from_numpy(dec.uniform(n, classes))
        conditional = model is not None and model.num_classes > 0
        return LabelPlan(mode, classes, stored, stored if conditional else None)
    if mode == "null":
        return LabelPlan(mode, 0, None, torch.full((n,), model.null_label, dtype=torch.long))
    return LabelPlan("none", 0, None, None)
