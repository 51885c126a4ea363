"""Fill frozen config dataclasses from `--key=value` strings, with one-line errors."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any

from genvision.errors import GenvisionError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_key_values(args: list[str]) -> dict[str, str | bool]:
    """['--lr=1e-3', '--data', 'mnist5k', '--resume'] -> {'lr': '1e-3', 'data': 'mnist5k', 'resume': True}.

    Dashes in keys become underscores. A bare `--flag` (last, or followed by another option) is True: right
    for a boolean option, and a one-line "needs a value" error from `convert` for any other type.
    """
    out: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise GenvisionError(f"unexpected argument {arg!r}: options are written --key=value")
        key, eq, value = arg[2:].partition("=")
        if not key:
            raise GenvisionError(f"unexpected argument {arg!r}: options are written --key=value")
        if eq:
            out[key.replace("-", "_")] = value
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[key.replace("-", "_")] = args[i + 1]
            i += 1
        else:
            out[key.replace("-", "_")] = True
        i += 1
    return out


def _accepts_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_accepts_bool(a) for a in typing.get_args(annotation))
    return False


def convert(value: Any, annotation: Any, key: str) -> Any:
    """Convert a string (or already-typed value) to `annotation`; GenvisionError on mismatch."""
    if value is True and not _accepts_bool(annotation):  # a bare --flag on an option that takes a value
        raise GenvisionError(f"option --{key.replace('_', '-')} needs a value (--{key.replace('_', '-')}=VALUE)")
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


def option_owners(configs: Mapping[str, Any], *, hidden: Mapping[str, Collection[str]] | None = None
                  ) -> dict[str, str]:
    """key -> the name of the config that owns it. A key in two configs is a GenvisionError: one would
    silently shadow the other. `hidden[name]`: fields of that config that are not options."""
    owners: dict[str, str] = {}
    for name, cfg in configs.items():
        skip = set((hidden or {}).get(name, ()))
        for key in field_types(cfg if isinstance(cfg, type) else type(cfg)):
            if key in skip:
                continue
            if key in owners:
                raise GenvisionError(f"option --{key} is defined by both the {owners[key]} and the {name} "
                                     "config: one would shadow the other; rename one or mark it derived")
            owners[key] = name
    return owners


def apply_overrides(configs: Mapping[str, Any], overrides: Mapping[str, Any], *,
                    hidden: Mapping[str, Collection[str]] | None = None) -> dict[str, Any]:
    """Replace fields of several config dataclass instances by key; keys are unique across them.

    An unknown key, a key two configs share or a value of the wrong type raises a one-line GenvisionError.
    """
    owners = option_owners(configs, hidden=hidden)
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
        check_ranges(out[name])
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
        instance = cls(**checked)
        check_ranges(instance, checks=False)  # a stored config is checked against this machine where it is used
    except (TypeError, ValueError) as exc:
        raise GenvisionError(f"{where}: invalid values ({exc})") from None
    except GenvisionError as err:  # a range, or the class's own __post_init__ check
        raise GenvisionError(f"{where}: {err}") from None
    return instance


def option(default: Any, *, min: float | None = None, max: float | None = None, gt: float | None = None,
           lt: float | None = None, check: Callable[[Any, str], None] | None = None, help: str = "") -> Any:
    """A dataclass field with what it accepts next to its type: `n: int = option(16, min=1)`.

    min / max: inclusive bounds; gt / lt: exclusive ones (`lr: float = option(1e-3, gt=0)`); check(value, name):
    a further test that raises a one-line GenvisionError (a device name, a path). A tuple's items are checked
    one by one. Every float field must be finite, declared or not. `check_ranges` reads the metadata; the
    three ways options enter (parse_options, apply_overrides, from_dict) call it.
    """
    return dataclasses.field(default=default, metadata={"min": min, "max": max, "gt": gt, "lt": lt,
                                                        "check": check, "help": help})


def accepted(f: dataclasses.Field) -> str:
    """What a field accepts, in words: ">= 1", "> 0 and < 1", "" when unconstrained."""
    m = f.metadata
    parts = [f"{op} {m[k]}" for k, op in (("min", ">="), ("gt", ">"), ("max", "<="), ("lt", "<"))
             if m.get(k) is not None]
    return " and ".join(parts)


def _check_number(f: dataclasses.Field, value: Any, name: str) -> None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        rule = accepted(f)
        raise GenvisionError(f"{name} must be a finite number{' ' + rule if rule else ''}, got {value}")
    m = f.metadata
    if ((m.get("min") is not None and value < m["min"]) or (m.get("max") is not None and value > m["max"])
            or (m.get("gt") is not None and value <= m["gt"]) or (m.get("lt") is not None and value >= m["lt"])):
        raise GenvisionError(f"{name} must be {accepted(f)}, got {value}")


def check_ranges(instance: Any, *, checks: bool = True) -> None:
    """One-line GenvisionError for the first field outside what it accepts (see `option`): the option's name,
    the value and the accepted range. None values pass (an optional option left unset). checks=False skips
    the `check` functions, whose answer depends on this machine (a stored --device=cuda read on a CPU host)."""
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        name = "--" + f.name.replace("_", "-")
        for item in value if isinstance(value, tuple) else (value,):
            _check_number(f, item, name)
        if checks and f.metadata.get("check") is not None and value is not None:
            f.metadata["check"](value, name)


def check_number_list(text: str, name: str) -> None:
    """`check` for an option holding comma-separated finite numbers (--weights=0,0.5,1)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenvisionError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise GenvisionError(f"{name} must be one or more finite numbers, comma-separated, got {text!r}")


def check_positive_ints(text: str, name: str) -> None:
    """`check` for an option holding comma-separated integers >= 1 (--ks=2,4,16)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenvisionError(f"{name} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise GenvisionError(f"{name} needs one or more integers >= 1, comma-separated, got {text!r}")


def describe_options(cls: type) -> list[str]:
    """One line per field of an options dataclass: `--key=DEFAULT  (accepted range) help`."""
    lines = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else "?"
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        rule, text = accepted(f), f.metadata.get("help", "")
        lines.append(f"  --{f.name.replace('_', '-')}={default}" + (f"  ({rule})" if rule else "")
                     + (f"  {text}" if text else ""))
    return lines


def parse_options(cls: type, values: Mapping[str, Any], *, what: str = "") -> Any:
    """A frozen options dataclass from `--key=value` pairs (strings, or True for a bare flag): the same
    conversion as training configs; unknown keys and wrong types are one-line errors, ranges are checked."""
    types_ = field_types(cls)
    unknown = [k for k in values if k.replace("-", "_") not in types_]
    if unknown:
        where = f" for {what}" if what else ""
        raise GenvisionError(f"unknown option --{unknown[0].replace('_', '-')}{where}; valid options: "
                             + ", ".join("--" + k.replace("_", "-") for k in types_))
    kwargs = {k.replace("-", "_"): convert(v, types_[k.replace("-", "_")], k) for k, v in values.items()}
    try:
        instance = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise GenvisionError(f"invalid options: {exc}") from None
    check_ranges(instance)
    return instance


def split_options(values: Mapping[str, Any], cls: type, *, what: str = "") -> tuple[Any, dict[str, Any]]:
    """(an instance of the options dataclass `cls` from the keys it declares, the other key-values) — for a
    command whose remaining options belong to a model's config or sampling options."""
    own = set(field_types(cls))
    mine = {k: v for k, v in values.items() if k in own}
    return parse_options(cls, mine, what=what), {k: v for k, v in values.items() if k not in own}
