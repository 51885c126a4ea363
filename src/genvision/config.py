"""Fill frozen config dataclasses from `--key=value` strings, with one-line errors."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from genvision.errors import GenvisionError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_key_values(args: list[str]) -> dict[str, str]:
    """['--lr=1e-3', '--data', 'mnist5k'] -> {'lr': '1e-3', 'data': 'mnist5k'} (dashes become _)."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise GenvisionError(f"unexpected argument {arg!r}: options are written --key=value")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise GenvisionError(f"option --{key} needs a value (--{key}=VALUE)")
            value = args[i + 1]
            i += 1
        out[key.replace("-", "_")] = value
        i += 1
    return out


def convert(value: Any, annotation: Any, key: str) -> Any:
    """Convert a string (or already-typed value) to `annotation`; GenvisionError on mismatch."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        if value not in choices:
            raise GenvisionError(f"--{key}: expected one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if isinstance(value, str) and value.lower() in ("none", "null", ""):
            return None
        return convert(value, args[0], key)
    if origin is tuple:
        inner = typing.get_args(annotation)[0]
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(convert(v.strip() if isinstance(v, str) else v, inner, key) for v in items if v != "")
    if not isinstance(value, str):
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, annotation):
            return value
        raise GenvisionError(f"--{key}: expected {annotation.__name__}, got {value!r}")
    try:
        if annotation is bool:
            low = value.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError
        if annotation is int:
            return int(value)
        if annotation is float:
            return float(value)
        if annotation is str:
            return value
    except ValueError:
        raise GenvisionError(f"--{key}: expected {annotation.__name__}, got {value!r}") from None
    raise GenvisionError(f"--{key}: unsupported option type {annotation}")


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def apply_overrides(configs: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Replace fields of several config dataclass instances by key; keys are unique across them.

    An unknown key or a value of the wrong type raises a one-line GenvisionError listing valid keys.
    """
    owners: dict[str, str] = {}
    for name, cfg in configs.items():
        for key in field_types(type(cfg)):
            owners.setdefault(key, name)
    updates: dict[str, dict[str, Any]] = {name: {} for name in configs}
    for key, value in overrides.items():
        key = key.replace("-", "_")
        if key not in owners:
            valid = ", ".join(sorted(owners))
            raise GenvisionError(f"unknown option --{key}; valid options: {valid}")
        owner = owners[key]
        updates[owner][key] = convert(value, field_types(type(configs[owner]))[key], key)
    out = {}
    for name, cfg in configs.items():
        try:
            out[name] = dataclasses.replace(cfg, **updates[name]) if updates[name] else cfg
        except (TypeError, ValueError) as exc:
            raise GenvisionError(f"invalid {name} options: {exc}") from None
    return out


def from_dict(cls: type, values: Mapping[str, Any]) -> Any:
    """Rebuild a config dataclass from a JSON dict (lists become tuples; unknown keys are an error)."""
    types_ = field_types(cls)
    unknown = set(values) - set(types_)
    if unknown:
        raise GenvisionError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
