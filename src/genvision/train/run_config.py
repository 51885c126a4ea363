"""The run config a run folder and each of its checkpoints carry, checked before anything is built from it.

Its shape (models.run_config_dict writes it): {"model": str, "preset": str, "model_config": {...},
"train": {...}, "data": {...}, "image_shape": [C, H, W], "num_classes": int}. The three sub-configs are checked
field by field against their dataclasses where they are rebuilt (config.from_dict).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from genvision.errors import GenvisionError


class RunShape(NamedTuple):
    model: str
    image_shape: tuple[int, int, int]  # (C, H, W)
    num_classes: int


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_run_config(config: Any, *, where: str = "run config") -> RunShape:
    """Every key a model is built from is present and of the right type; one-line error naming the key."""
    if not isinstance(config, dict):
        raise GenvisionError(f"{where}: expected a JSON object, got {type(config).__name__}")
    for key, kind in (("model", str), ("model_config", dict), ("image_shape", list), ("num_classes", int)):
        if key not in config:
            raise GenvisionError(f"{where}: missing key {key!r}")
        value = config[key]
        if not isinstance(value, kind) or (kind is int and not _is_int(value)):
            raise GenvisionError(f"{where}: key {key!r} must be a JSON {kind.__name__}, got {value!r}")
    for key in ("train", "data"):
        if key in config and not isinstance(config[key], dict):
            raise GenvisionError(f"{where}: key {key!r} must be a JSON object, got {config[key]!r}")
    if "preset" in config and not isinstance(config["preset"], str):
        raise GenvisionError(f"{where}: key 'preset' must be a string, got {config['preset']!r}")
    shape = config["image_shape"]
    if len(shape) != 3 or not all(_is_int(v) and v >= 1 for v in shape):
        raise GenvisionError(f"{where}: key 'image_shape' must be [C, H, W] of positive ints, got {shape!r}")
    if config["num_classes"] < 0:
        raise GenvisionError(f"{where}: key 'num_classes' must be >= 0, got {config['num_classes']}")
    return RunShape(config["model"], (shape[0], shape[1], shape[2]), config["num_classes"])
