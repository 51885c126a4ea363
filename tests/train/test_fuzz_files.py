"""Property-based tests of every file genvision reads: generated truncations, bit flips, foreign files, wrong
shapes and dtypes, wrong embedded configs and bad IDX headers. Each must end in one `error:` line (or a
GenvisionError at the library level), never a traceback and never a silent success. Examples per run: see
MAX; the whole file runs in a few seconds."""

from __future__ import annotations

import contextlib
import io
import json
import math
import struct
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
import torch
from ckpt_fixtures import tiny_model, tiny_run_config
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from genvision.cli import main
from genvision.errors import GenvisionError
from genvision.loading import load_model
from genvision.train import checkpoint as ckpt

MAX = {"truncate": 40, "flip": 60, "foreign": 30, "shape": 30, "config": 40, "idx": 60}
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=1)
def _tiny() -> tuple[bytes, dict, dict]:
    """The bytes of a real tiny pixelcnn checkpoint, its config and its weights."""
    config = tiny_run_config()
    weights = {k: v.clone() for k, v in tiny_model(config).state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = ckpt.save_checkpoint(Path(tmp) / "c.safetensors", step=7, config=config, model=weights, ema=weights)
        return path.read_bytes(), config, weights


def _header_end(data: bytes) -> int:
    return 8 + struct.unpack("<Q", data[:8])[0]


def _cli_error(*argv: str) -> str:
    """Run the CLI; it must exit 2 with exactly one line, `error: ...`, on stderr. Returns that line."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    text = err.getvalue()
    assert rc == 2, (rc, text, out.getvalue())
    assert text.startswith("error: ") and text.count("\n") == 1, text
    return text


def test_the_tiny_checkpoint_itself_loads():
    data, config, _ = _tiny()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.safetensors"
        path.write_bytes(data)
        model, got = load_model(path)
    assert got == config and not model.training


@settings(max_examples=MAX["truncate"], **FUZZ)
@given(st.data())
def test_every_truncation_is_an_error_line(data):
    raw, _, _ = _tiny()
    cut = data.draw(st.one_of(st.integers(0, _header_end(raw) + 8), st.integers(0, len(raw) - 1)), label="cut")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.safetensors"
        path.write_bytes(raw[:cut])
        assert "corrupt" in _cli_error("sample", str(path), "--out", str(Path(tmp) / "x.png"))


@settings(max_examples=MAX["flip"], **FUZZ)
@given(st.data())
def test_every_single_bit_flip_is_an_error_line(data):
    """Half the flips land in the 8-byte length + JSON header (names, dtypes, shapes, offsets, config), half
    anywhere; the content hash covers both, so none may pass."""
    raw, _, _ = _tiny()
    byte = data.draw(st.one_of(st.integers(0, _header_end(raw) - 1), st.integers(0, len(raw) - 1)), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    flipped = bytearray(raw)
    flipped[byte] ^= 1 << bit
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.safetensors"
        path.write_bytes(bytes(flipped))
        _cli_error("sample", str(path), "--out", str(Path(tmp) / "x.png"))


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                         max_size=3), max_leaves=8)


@settings(max_examples=MAX["foreign"], **FUZZ)
@given(kind=st.sampled_from(["bytes", "safetensors", "json", "our-format"]), payload=st.binary(max_size=200),
       metadata=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4), config=json_values)
def test_foreign_files_are_refused(kind, payload, metadata, config):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.safetensors"
        if kind == "bytes":
            path.write_bytes(payload)
        elif kind == "safetensors":
            save_file({"w": torch.ones(2)}, str(path), metadata=metadata or None)
        elif kind == "json":
            path.write_text(json.dumps(config))
        else:  # a genvision checkpoint whose config is arbitrary JSON (a valid hash, so it gets past integrity)
            ckpt.save_checkpoint(path, step=1, config=config if isinstance(config, dict) else {"model": config},
                                 model={"w": torch.ones(2)})
        with pytest.raises(GenvisionError):
            load_model(path)


MUTATIONS = ("transpose", "drop-row", "extra-dim", "to-int", "to-bool", "remove", "add")


@settings(max_examples=MAX["shape"], **FUZZ)
@given(st.data())
def test_wrong_shapes_dtypes_and_keys_are_refused_naming_the_tensor(data):
    _, config, weights = _tiny()
    key = data.draw(st.sampled_from(sorted(weights)), label="key")
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    w = dict(weights)
    t = w[key]
    if mutation == "transpose" and t.dim() >= 2 and t.shape[0] != t.shape[1]:
        w[key] = t.transpose(0, 1).contiguous()
    elif mutation == "drop-row" and t.dim() >= 1 and t.shape[0] > 1:
        w[key] = t[1:].clone()
    elif mutation == "to-int" and t.is_floating_point():
        w[key] = t.round().long()
    elif mutation == "to-bool":
        w[key] = t != 0
    elif mutation == "remove":
        del w[key]
    elif mutation == "add":
        w[key + "_extra"] = torch.ones(1)
        key = key + "_extra"
    else:
        w[key] = t.unsqueeze(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = ckpt.save_checkpoint(Path(tmp) / "c.safetensors", step=1, config=config, model=w, ema=w)
        with pytest.raises(GenvisionError, match=f"'{key}'"):
            load_model(path)


def _wrong_type_for(value):
    """JSON values of another type than `value` (a bool is not an int, an int is not a string, ...)."""
    def other(v):
        if isinstance(value, bool):
            return not isinstance(v, bool)
        if isinstance(value, int | float):
            return isinstance(v, bool) or not isinstance(v, int | float)
        return type(v) is not type(value)
    return json_values.filter(other)


@settings(max_examples=MAX["config"], **FUZZ)
@given(st.data())
def test_embedded_config_with_a_missing_key_or_wrong_type_names_the_key(data):
    _, config, weights = _tiny()
    config = json.loads(json.dumps(config))
    top = ["model", "model_config", "image_shape", "num_classes"]
    where = data.draw(st.sampled_from(["delete", "top", "model_config"]), label="where")
    if where == "delete":
        key = data.draw(st.sampled_from(top), label="key")
        del config[key]
    elif where == "top":
        key = data.draw(st.sampled_from(top), label="key")
        config[key] = data.draw(_wrong_type_for(config[key]), label="value")
    else:
        key = data.draw(st.sampled_from(sorted(config["model_config"])), label="key")
        config["model_config"][key] = data.draw(_wrong_type_for(config["model_config"][key]), label="value")
    with tempfile.TemporaryDirectory() as tmp:
        path = ckpt.save_checkpoint(Path(tmp) / "c.safetensors", step=1, config=config, model=weights)
        with pytest.raises(GenvisionError, match=f"{key}|not a JSON object|unknown model"):
            load_model(path)


def _idx_bytes(magic: int, dims: list[int], data_len: int) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims) + bytes(data_len)


@settings(max_examples=MAX["idx"], **FUZZ)
@given(st.data())
def test_bad_idx_headers_are_an_error_line_or_a_valid_data_set(data):
    """An images file with a generated header (mostly the right magic, sizes from 0 to 2^32 - 1) and a data
    section of a generated length: `genvision data mnist` either describes a data set of N >= 1 images of at
    least 1x1 pixels, or prints one error line."""
    if data.draw(st.booleans(), label="near-valid"):  # MNIST-like: right magic, small sizes (0 included)
        magic, dims = 0x803, [data.draw(st.integers(0, 5), label=f"dim{i}") for i in range(3)]
        data_len = math.prod(dims) + data.draw(st.sampled_from([0, 0, 0, -1, 1]), label="off_by")
        data_len = max(data_len, 0)
    else:  # anything: any magic, sizes up to 2^32 - 1, a short data section
        magic = data.draw(st.one_of(st.just(0x803), st.integers(0, 2**32 - 1)), label="magic")
        ndim = magic & 0xFF if magic >> 16 == 0 and magic & 0xFF <= 4 else 3
        size = st.one_of(st.integers(0, 4), st.integers(0, 2**32 - 1))
        dims = [data.draw(size, label=f"dim{i}") for i in range(ndim)]
        exact = math.prod(dims) if math.prod(dims) < 10**6 else 0
        data_len = data.draw(st.one_of(st.just(exact), st.integers(0, 64)), label="data_len")
    n = dims[0] if dims else 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "train-images-idx3-ubyte").write_bytes(_idx_bytes(magic, dims, data_len))
        (folder / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(0x801, [n], n if n < 10**6 else 0))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["data", "mnist", f"--data_dir={folder}"])
        event("a valid data set" if rc == 0 else "an error line")
        if rc == 0:
            assert magic == 0x803 and len(dims) == 3 and min(dims) >= 1 and data_len == math.prod(dims)
            assert f"(C, H, W): (1, {dims[1]}, {dims[2]})" in out.getvalue()
        else:
            text = err.getvalue()
            assert rc == 2 and text.startswith("error: ") and text.count("\n") == 1, text


def test_idx_with_zero_by_zero_images_is_refused(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(0x803, [5, 0, 0], 0))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(0x801, [5], 5))
    assert "images of 0x0 pixels" in _cli_error("data", "mnist", f"--data_dir={tmp_path}")


def test_idx_header_whose_size_overflows_int64_is_refused(tmp_path):
    """2^31 x 2^31 x 4 images = 2^64 bytes, which wraps to 0 in int64 arithmetic: an empty data section must not
    pass for it (it did with np.prod, and then reshape raised a ValueError traceback)."""
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(0x803, [2**31, 2**31, 4], 0))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(0x801, [1], 1))
    assert "truncated IDX file" in _cli_error("data", "mnist", f"--data_dir={tmp_path}")
