"""Samples files for `genvision eval` (eval/samples.py, the one validator) and what eval writes: valid JSON,
never over an earlier evaluation, with the evaluation classifier recorded (eval/results.py)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch

from genvision.cli import main
from genvision.errors import GenvisionError
from genvision.eval.results import json_safe, stored_results, write_new_json
from genvision.eval.samples import is_samples_file, load_samples_npz, read_npz

SHAPE = (1, 28, 28)


def _npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _images(n=4, h=28, w=28, c=1):
    return np.arange(n * h * w * c, dtype=np.int64).reshape(n, h, w, c).astype(np.uint8)


def test_a_valid_file_loads_as_floats_and_int64_labels(tmp_path):
    path = _npz(tmp_path / "s.npz", images=_images(), labels=np.arange(4, dtype=np.int16))
    x, y = load_samples_npz(path, image_shape=SHAPE, num_classes=10)
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32 and x.min() == -1 and x.max() <= 1
    assert y.dtype == torch.int64 and y.tolist() == [0, 1, 2, 3]
    assert is_samples_file("a/B.NPZ") and not is_samples_file("runs/x")


@pytest.mark.parametrize("arrays, message", [
    ({"images": _images().transpose(0, 3, 1, 2)}, "looks channels-first (N, C, H, W)"),
    ({"images": _images(c=3)}, "images with 3 channel(s), but mnist5k has 1 (grey)"),
    ({"images": _images(h=32, w=32)}, "images of 32x32 pixels, but mnist5k has 28x28"),
    ({"images": _images().astype(np.float32)}, "'images' must be uint8 (N, H, W, C) in 0..255, got dtype float32"),
    ({"images": _images()[..., 0]}, "'images' must be (N, H, W, C), got 3 dimensions"),
    ({"images": _images(n=0)}, "'images' holds no image"),
    ({"images": _images(), "labels": np.array([0, 1, 2, 10])}, "label 10 is out of range: mnist5k has classes 0..9"),
    ({"images": _images(), "labels": np.array([0, -1, 2, 3])}, "'labels' must be >= 0, got -1"),
    ({"images": _images(), "labels": np.array([0, 1.5, 2, 3])}, "'labels' must be integers, got dtype float64"),
    ({"images": _images(), "labels": np.array(["0", "1", "2", "3"])}, "'labels' must be integers, got dtype <U1"),
    ({"images": _images(), "labels": np.ones(4, bool)}, "'labels' must be integers, got dtype bool"),
    ({"images": _images(), "labels": np.arange(3)}, "4 images but 'labels' of shape (3,)"),
    ({"pictures": _images()}, "no 'images' array (it holds 'pictures')"),
])
def test_wrong_arrays_are_refused_naming_the_file_and_the_problem(tmp_path, arrays, message):
    path = _npz(tmp_path / "s.npz", **arrays)
    with pytest.raises(GenvisionError) as err:
        load_samples_npz(path, image_shape=SHAPE, num_classes=10, data="mnist5k")
    assert str(err.value).startswith(str(path)) and message in str(err.value), str(err.value)


def _valid_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=_images())
    return buffer.getvalue()


@pytest.mark.parametrize("body, message", [
    (b"", "is empty (0 bytes)"),
    (b"hello world\n", "is a text file, not an .npz archive (it starts with 'hello world\\n')"),
    (b"\x93NUMPY\x01\x00rest", "is a single .npy array, not an .npz archive"),
    (b"\x00\xff\x10\x80garbage", "is not an .npz archive (a zip of .npy arrays); it starts with bytes 00 ff 10 80"),
    (_valid_bytes()[:200], "is a truncated or damaged zip archive"),
])
def test_files_that_are_no_npz_say_what_they_are(tmp_path, body, message):
    path = tmp_path / "s.npz"
    path.write_bytes(body)
    with pytest.raises(GenvisionError) as err:
        read_npz(path, ("images",))
    assert message in str(err.value) and "pickle" not in str(err.value), str(err.value)


def test_a_damaged_member_and_a_pickled_array(tmp_path):
    raw = bytearray(_valid_bytes())
    start = raw.index(b"images.npy") + len("images.npy") + 40  # inside the compressed data of the member
    raw[start] ^= 0xFF
    (tmp_path / "crc.npz").write_bytes(bytes(raw))
    with pytest.raises(GenvisionError, match="a truncated or damaged .npz archive|a damaged array"):
        read_npz(tmp_path / "crc.npz", ("images",))
    path = _npz(tmp_path / "obj.npz", images=np.array([{"a": 1}], dtype=object))
    with pytest.raises(GenvisionError, match="holds Python objects .* which genvision does not load"):
        read_npz(path, ("images",))
    assert zipfile.is_zipfile(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(GenvisionError, match="no such file"):
        read_npz(tmp_path / "none.npz", ("images",))
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(GenvisionError, match="is a folder, not a samples file"):
        read_npz(tmp_path / "d.npz", ("images",))


# ---- what eval writes ------------------------------------------------------------------------------------


def test_json_safe_writes_null_for_non_finite_numbers(tmp_path):
    result = {"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf"), "e": "x"}, "f": 2}
    assert json_safe(result) == {"a": None, "b": [1.0, None], "c": {"d": None, "e": "x"}, "f": 2}
    path = write_new_json(tmp_path / "eval.json", result)
    json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))


def test_a_second_result_goes_beside_the_first(tmp_path):
    first = write_new_json(tmp_path / "eval.json", {"k": 1})
    second = write_new_json(tmp_path / "eval.json", {"k": 2})
    third = write_new_json(tmp_path / "eval.json", {"k": 3})
    assert [p.name for p in (first, second, third)] == ["eval.json", "eval-2.json", "eval-3.json"]
    (tmp_path / "eval-x.json").write_text("{}")  # not one of them
    assert [json.loads(p.read_text())["k"] for p in stored_results(tmp_path / "eval.json")] == [1, 2, 3]


def test_eval_of_a_samples_file_twice_keeps_both_and_names_the_classifier(capsys, tmp_path, monkeypatch):
    """Labels of three classes only: the per-class accuracy of the other seven is NaN, written as null."""
    monkeypatch.chdir(tmp_path)
    _npz(tmp_path / "s.npz", images=_images(6), labels=np.array([0, 1, 2, 0, 1, 2]))
    for _ in range(2):
        assert main(["eval", "s.npz", "--metrics=accuracy"]) == 0
    out = capsys.readouterr().out
    assert out.count("evaluation classifier: pretrained:eval-classifier-mnist (the default for mnist5k)") == 2
    assert "wrote s.eval.json\n" in out and "wrote s.eval-2.json (s.eval.json holds an earlier evaluation, kept)" in out
    for name in ("s.eval.json", "s.eval-2.json"):
        result = json.loads((tmp_path / name).read_text(), parse_constant=lambda c: pytest.fail(f"bare {c}"))
        assert result["eval_classifier"].startswith("pretrained:eval-classifier-mnist")
        assert result["accuracy_per_class"][3:] == [None] * 7


def test_options_that_do_not_apply_to_a_samples_file_are_refused(capsys, tmp_path):
    path = _npz(tmp_path / "s.npz", images=_images())
    for option in ("--n=5", "--seed=1", "--batch=3", "--device=cpu"):
        assert main(["eval", str(path), option]) == 2
        err = capsys.readouterr().err
        assert f"{option.split('=')[0]} does not apply to a samples file" in err and err.count("\n") == 1
    assert not (tmp_path / "s.eval.json").exists()


def test_the_report_merges_every_stored_evaluation(tmp_path):
    from genvision.report.targets import _run_metrics

    write_new_json(tmp_path / "eval.json", {"target": "r", "fid": 3.0, "bpd": 1.5})
    write_new_json(tmp_path / "eval.json", {"target": "r", "fid": 2.0})
    assert _run_metrics(tmp_path) == {"fid": 2.0, "bpd": 1.5}
