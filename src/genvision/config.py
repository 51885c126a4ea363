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


def _json_type_error(where: str, key: str, annotation: Any, value: Any) -> GenvisionError:
    name = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
    return GenvisionError(f"{where}: key {key!r} must be {name}, got {value!r}")


def check_json_value(value: Any, annotation: Any, *, key: str, where: str) -> Any:
    """A value read from JSON checked against a field's annotation, strictly (no string parsing: "3" is not an
    int; a bool is not an int); lists become tuples. One-line GenvisionError naming the key otherwise."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        if value not in typing.get_args(annotation) or isinstance(value, bool):
            raise _json_type_error(where, key, annotation, value)
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return check_json_value(value, arg, key=key, where=where)
            except GenvisionError:
                pass
        raise _json_type_error(where, key, annotation, value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _json_type_error(where, key, annotation, value)
        inner = typing.get_args(annotation)[0]
        return tuple(check_json_value(v, inner, key=key, where=where) for v in value)
    if annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _json_type_error(where, key, annotation, value)
    if annotation is int and isinstance(value, bool):
        raise _json_type_error(where, key, annotation, value)
    if isinstance(annotation, type) and not isinstance(value, annotation):
        raise _json_type_error(where, key, annotation, value)
    return value


def from_dict(cls: type, values: Mapping[str, Any], *, where: str | None = None) -> Any:
    """Rebuild a config dataclass from a JSON dict, checking each value's type against its field (lists become
    tuples). Unknown keys and wrong types are one-line errors naming the key; a missing key takes the field's
    default (a field added after the file was written), or is an error when the field has none."""
    where = where or cls.__name__
    if not isinstance(values, Mapping):
        raise GenvisionError(f"{where}: expected a JSON object of {cls.__name__} fields, got {values!r}")
    types_ = field_types(cls)
    unknown = set(values) - set(types_)
    if unknown:
        raise GenvisionError(f"{where}: unknown keys {sorted(unknown)}")
    for f in dataclasses.fields(cls):
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name not in values and no_default:
            raise GenvisionError(f"{where}: missing key {f.name!r}")
    checked = {k: check_json_value(v, types_[k], key=k, where=where) for k, v in values.items()}
    try:
        return cls(**checked)
    except (TypeError, ValueError) as exc:
        raise GenvisionError(f"{where}: invalid values ({exc})") from None
