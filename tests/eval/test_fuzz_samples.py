"""Property-based tests of samples files for `genvision eval`: generated arrays (dtypes, shapes, channel orders,
image sizes, labels of every kind) and generated damage to the file (truncation, bit flips, other bytes, a
text file, an upper-case .NPZ name). Each run ends in one `error:` line, never a traceback: a file the test's
own reading says is wrong is refused naming it; a good one gets past the validator to the evaluation
classifier, which the test names as a missing run so no scoring work is done. Examples per run: MAX."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from genvision.cli import main

MAX = {"arrays": 80, "damage": 60}
FUZZ = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SHAPE = (28, 28, 1)  # mnist5k, the data set a samples file is scored against by default
NO_CLASSIFIER = "no-such-classifier"
REACHED = "no evaluation classifier at no-such-classifier"


def _eval(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["eval", str(path), f"--classifier={NO_CLASSIFIER}", "--metrics=fid,accuracy",
                   f"--out={path.parent / 'e.json'}"])
    text = err.getvalue()
    assert rc == 2, (rc, text, out.getvalue())
    assert text.startswith("error: ") and text.count("\n") == 1, text
    return rc, text


BAD_DTYPES = [np.int64, np.float32, np.bool_, np.uint16, np.int8]
BAD_LABELS = ["float", "bool", "string", "wrong-length", "2-d"]


@st.composite
def samples_arrays(draw):
    """(images, labels or None, the test's verdict). One aspect is made wrong at a time (or none, a third of the
    time): the images' dtype, their layout (channels-first, RGB, another size, 3 or 5 dimensions), an empty
    array, the labels' type or shape, or one label outside 0..9; the verdict is True only for a valid mnist5k
    samples file."""
    wrong = draw(st.sampled_from(["none", "none", "none", "dtype", "layout", "no image", "labels", "label range"]),
                 label="wrong")
    n = 0 if wrong == "no image" else draw(st.integers(1, 3), label="n")
    layout = draw(st.sampled_from(["nchw", "rgb", "size", "3-d", "5-d"]), label="layout") if wrong == "layout" \
        else "nhwc"
    shape = {"nhwc": (n, *SHAPE), "nchw": (n, 1, 28, 28), "rgb": (n, 28, 28, 3),
             "size": (n, draw(st.sampled_from([27, 32, 8])), 28, 1), "3-d": (n, 28, 28),
             "5-d": (n, 28, 28, 1, 1)}[layout]
    dtype = draw(st.sampled_from(BAD_DTYPES), label="dtype") if wrong == "dtype" else np.uint8
    images = np.full(shape, draw(st.integers(0, 1)), dtype=dtype)
    kind = draw(st.sampled_from(BAD_LABELS if wrong == "labels" else ["none", "good", "int8"]), label="labels")
    labels = {"none": None, "good": np.arange(n) % 10, "int8": (np.arange(n) % 10).astype(np.int8),
              "out-of-range": np.full(n, 10), "negative": np.full(n, -1), "float": np.arange(n) * 0.5,
              "bool": np.ones(n, dtype=bool), "string": np.array(["3"] * n), "wrong-length": np.arange(n + 1),
              "2-d": np.zeros((n, 1), dtype=np.int64)}[kind]
    if wrong == "label range":
        labels = np.arange(n) % 10
        labels[draw(st.integers(0, n - 1), label="where")] = draw(st.one_of(st.integers(10, 2**40),
                                                                           st.integers(-2**40, -1)), label="label")
    event("valid" if wrong == "none" else f"invalid: {wrong}")
    return images, labels, wrong == "none"


@settings(max_examples=MAX["arrays"], **FUZZ)
@given(arrays=samples_arrays(), upper=st.booleans())
def test_samples_arrays_are_refused_naming_the_file_or_reach_the_classifier(arrays, upper):
    images, labels, valid = arrays
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("s.NPZ" if upper else "s.npz")
        with open(path, "wb") as f:  # np.savez would append .npz to a name ending in .NPZ
            np.savez(f, images=images, **({} if labels is None else {"labels": labels}))
        _, err = _eval(path)
    if valid:
        assert REACHED in err, err
    else:
        assert str(path) in err and REACHED not in err, err


@settings(max_examples=MAX["damage"], **FUZZ)
@given(st.data())
def test_damaged_samples_files_are_refused_naming_the_file(data):
    """A valid samples file, then damaged: cut short, a bit flipped, replaced by other bytes or by text. A cut
    or foreign bytes must be refused; a flipped bit may land where the zip format does not look (a timestamp)
    and still load, but then the file is a valid samples file and must reach the classifier."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=np.full((3, *SHAPE), 7, np.uint8), labels=np.arange(3))
    raw = buffer.getvalue()
    damage = data.draw(st.sampled_from(["truncate", "flip", "bytes", "text", "empty", "npy"]), label="damage")
    if damage == "truncate":
        body = raw[:data.draw(st.integers(1, len(raw) - 1), label="cut")]
    elif damage == "flip":
        body = bytearray(raw)
        body[data.draw(st.integers(0, len(raw) - 1), label="byte")] ^= 1 << data.draw(st.integers(0, 7), label="bit")
        body = bytes(body)
    elif damage == "bytes":
        body = data.draw(st.binary(min_size=1, max_size=64), label="bytes")
    elif damage == "text":
        body = data.draw(st.text(min_size=1, max_size=40), label="text").encode()
    elif damage == "npy":
        npy = io.BytesIO()
        np.save(npy, np.zeros((3, *SHAPE), np.uint8))
        body = npy.getvalue()
    else:
        body = b""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.npz"
        path.write_bytes(body)
        _, err = _eval(path)
    if REACHED in err:
        event(f"{damage}: still a valid file")
        assert damage == "flip", err
    else:
        event(f"{damage}: refused")
        assert str(path) in err, err


def test_a_text_file_named_npz_is_called_a_text_file(tmp_path):
    path = tmp_path / "s.npz"
    path.write_text("hello\n")
    _, err = _eval(path)
    assert "is a text file, not an .npz archive" in err and "pickle" not in err


def test_an_upper_case_npz_is_a_samples_file_not_a_checkpoint(tmp_path):
    path = tmp_path / "S.NPZ"
    with open(path, "wb") as f:
        np.savez(f, images=np.zeros((2, *SHAPE), np.uint8))
    _, err = _eval(path)
    assert REACHED in err and "checkpoint" not in err
