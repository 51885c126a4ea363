"""Property-based tests of option values through the CLI: generated values for every option of every command's
options dataclass (and the training and sampling configs). Each run ends in exactly one `error:` line, never a
traceback: an option value outside what it accepts names that option; any other value gets past the options
to the next check, which the test arranges to fail cheaply (a missing target, a run folder under a file, a
sample of 10^12 images refused by the memory estimate), so no case does real work. Examples per run: MAX."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import tempfile
import types
import typing
from functools import lru_cache
from pathlib import Path

import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from genvision.cli import main
from genvision.commands import CompleteOptions, GuidanceSweepOptions, SampleOptions
from genvision.config import field_types
from genvision.diffusion.model import DDPMSampleOptions
from genvision.eval.run import EvalOptions
from genvision.models import get_entry, make_run_spec, run_config_dict
from genvision.quantize.cli import PatchVQOptions
from genvision.report.build import ReportCommandOptions
from genvision.train import checkpoint as ckpt
from genvision.train.config import TrainConfig

MAX = {"command": 150, "train": 60, "sampling": 60}
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MISSING = "no/such/run"

# command -> (the argument list before the generated option, its options dataclass, the error a value that
# passes the options must reach). The targets do not exist, so nothing is loaded or written.
COMMANDS = {
    "sample": (["sample", MISSING, "--out=x.png"], SampleOptions, "neither a checkpoint file nor a run folder"),
    "eval": (["eval", MISSING], EvalOptions, "neither a checkpoint file nor a run folder"),
    "complete": (["complete", MISSING, "--out=c.png"], CompleteOptions, "neither a checkpoint file nor a run"),
    "guidance-sweep": (["guidance-sweep", MISSING, "--out=g"], GuidanceSweepOptions, "neither a checkpoint file"),
    "patch-vq": (["patch-vq", MISSING, "--out=p"], PatchVQOptions, "neither an image file nor a dataset"),
    "report": (["report", MISSING, "--out=r"], ReportCommandOptions, "neither a checkpoint file nor a run folder"),
}
SKIP = {"out", "device"}  # path and device values have their own tests (test_validation.py)

TEXT = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "0", "-1", "1", "2", "nan", "inf", "-inf", "1e309", "1.5", "-0.0", "true", "off",
                     "maybe", "none", "null", "ddim", "ddpm", "beta", "x"]),
    st.text(max_size=6),
)


def _accepts(annotation, meta: typing.Mapping, text: str) -> bool | None:
    """The test's own reading of whether `text` is a valid value: Python's int()/float() for the type, then
    finiteness and the declared range, compared here rather than by the code under test. None: a string the
    option checks itself (a metric list, numbers), where either outcome is fine if it is the right error."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null", ""):
            return True
        inner = [a for a in typing.get_args(annotation) if a is not type(None)][0]
        return _accepts(inner, meta, text)
    if origin is typing.Literal:
        return text in typing.get_args(annotation)
    if annotation is bool:
        return text.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}
    if annotation is str:
        return None if meta.get("check") else True
    try:
        value = int(text) if annotation is int else float(text)
    except ValueError:
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return not ((meta.get("min") is not None and value < meta["min"])
                or (meta.get("max") is not None and value > meta["max"])
                or (meta.get("gt") is not None and value <= meta["gt"])
                or (meta.get("lt") is not None and value >= meta["lt"]))


def _valid(annotation, meta: typing.Mapping) -> st.SearchStrategy[str]:
    """Values of the option's type inside its declared range, so valid values are drawn often, not only by
    chance from TEXT."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)][0]
        return st.one_of(st.just("none"), _valid(inner, meta))
    if origin is typing.Literal:
        return st.sampled_from([str(c) for c in typing.get_args(annotation)])
    if annotation is bool:
        return st.sampled_from(["true", "false", "1", "0", "yes", "no", "on", "off"])
    if annotation is int:
        low = meta.get("min") if meta.get("min") is not None else -100
        return st.integers(int(low), int(meta["max"]) if meta.get("max") is not None else 10**6).map(str)
    if annotation is float:
        low = meta.get("min") if meta.get("min") is not None else meta.get("gt")
        high = meta.get("max") if meta.get("max") is not None else meta.get("lt")
        return st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min=meta.get("gt") is not None,
                         exclude_max=meta.get("lt") is not None).map(repr)
    return st.text(max_size=6)


def _value(data, cls: type, field: dataclasses.Field) -> str:
    return data.draw(st.one_of(TEXT, _valid(field_types(cls)[field.name], field.metadata)), label=field.name)


def _fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.name not in SKIP]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def _one_error_line(rc: int, err: str, out: str) -> str:
    assert rc == 2, (rc, err, out)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def _names(err: str, name: str) -> bool:
    return f"--{name}" in err or f"--{name.replace('_', '-')}" in err


def _check(argv: list[str], field: dataclasses.Field, annotation, text: str, reached: str) -> None:
    rc, out, err = _run([*argv, f"--{field.name.replace('_', '-')}={text}"])
    _one_error_line(rc, err, out)
    valid = _accepts(annotation, field.metadata, text)
    if valid is None:
        event("a value the option checks itself")
        assert reached in err or _names(err, field.name), (field.name, text, err)
    elif valid:
        event("valid value: reached the next check")
        assert reached in err, (field.name, text, err)
    else:
        event("invalid value: refused naming the option")
        assert _names(err, field.name), (field.name, text, err)


@settings(max_examples=MAX["command"], **FUZZ)
@given(st.data())
def test_command_options_are_refused_by_name_or_passed_on(data):
    command = data.draw(st.sampled_from(sorted(COMMANDS)), label="command")
    argv, cls, reached = COMMANDS[command]
    field = data.draw(st.sampled_from(_fields(cls)), label="option")
    _check(argv, field, field_types(cls)[field.name], _value(data, cls, field), reached)


@settings(max_examples=MAX["train"], **FUZZ)
@given(st.data())
def test_training_options_are_refused_by_name_or_passed_on(data):
    """TrainConfig fields through `genvision train`, whose run folder would be under a file: a valid value
    reaches that refusal (before any data is loaded), an invalid one is refused naming the option."""
    field = data.draw(st.sampled_from(_fields(TrainConfig)), label="option")
    text = _value(data, TrainConfig, field)
    with tempfile.TemporaryDirectory() as tmp:
        blocker = Path(tmp) / "a-file"
        blocker.write_text("")
        argv = ["train", "ddpm", "--preset=tiny", f"--runs-dir={blocker}"]
        _check(argv, field, field_types(TrainConfig)[field.name], text, "is a file, so nothing can be written")


@lru_cache(maxsize=1)
def _tiny_ddpm(folder: str) -> str:
    """A checkpoint of an untrained class-conditional DDPM (the cfg tiny preset, 1x8x8), written once."""
    from genvision.config import from_dict

    spec = make_run_spec("cfg", preset="tiny", overrides={"data": "digits"})
    config = run_config_dict(spec, image_shape=(1, 8, 8), num_classes=10)
    entry = get_entry("cfg")
    torch.manual_seed(0)
    model = entry.make(from_dict(entry.config_cls, config["model_config"]), (1, 8, 8), 10)
    path = ckpt.save_checkpoint(Path(folder) / "cfg.safetensors", step=1, config=config, model=model.state_dict())
    return str(path)


_DDPM_DIR = tempfile.mkdtemp(prefix="fuzz-ddpm-")

SAMPLING_VALUES = {  # a sampling option -> extra values drawn besides TEXT (the ones the cross-checks read)
    "classifier": st.sampled_from(["", "runs/noisy"]),
    "classifier_scale": st.sampled_from(["0", "0.0", "2", "-1"]),
}


@settings(max_examples=MAX["sampling"], **FUZZ)
@given(st.data())
def test_sampling_options_are_refused_by_name_or_reach_the_memory_estimate(data):
    """One to three of a DDPM's sampling options, then `--n=10^12`: valid options reach the memory estimate,
    which refuses the sample with its figure and the limit; invalid ones are refused naming an option. Only
    a checkpoint is read. Cross-option rules: one CFG convention at a time; classifier guidance needs both a
    classifier and a scale != 0."""
    types_ = field_types(DDPMSampleOptions)
    fields = {f.name: f for f in dataclasses.fields(DDPMSampleOptions)}
    names = data.draw(st.sets(st.sampled_from(sorted(fields)), min_size=1, max_size=3), label="options")
    values = {n: data.draw(st.one_of(TEXT, SAMPLING_VALUES.get(n, _valid(types_[n], fields[n].metadata))), label=n)
              for n in sorted(names)}
    rc, out, err = _run(["sample", _tiny_ddpm(_DDPM_DIR), "--out=x.png", "--n=1000000000000",
                         *[f"--{n.replace('_', '-')}={v}" for n, v in values.items()]])
    _one_error_line(rc, err, out)
    valid = {n: _accepts(types_[n], fields[n].metadata, v) for n, v in values.items()}
    if not all(valid.values()):
        event("an invalid value")
        assert any(_names(err, n) for n, ok in valid.items() if not ok), (values, err)
        return
    cfg = [n for n in ("guidance_weight", "guidance_scale", "guidance_lambda")
           if n in values and values[n].lower() not in ("none", "null", "")]
    classifier = values.get("classifier", "") not in ("",)
    scale = float(values["classifier_scale"]) if "classifier_scale" in values else 0.0
    if len(cfg) > 1:
        event("two CFG conventions")
        assert "give only one of" in err, (values, err)
    elif scale != 0 and not classifier:
        event("a scale without a classifier")
        assert "needs --classifier=" in err, (values, err)
    elif classifier and scale == 0:
        event("a classifier without a scale")
        assert "needs --classifier-scale" in err, (values, err)
    elif classifier:
        event("a classifier that does not exist")
        assert "neither a checkpoint file nor a run folder" in err, (values, err)
    else:
        event("valid options: the memory estimate refuses 10^12 images")
        assert "needs about" in err and "limit" in err, (values, err)
