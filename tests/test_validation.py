"""The validation layer's parts: option ranges next to their types (config.option), device names
(genvision/device.py), output paths (genvision/outputs.py) and the memory estimate (genvision/memory.py)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import pytest
import torch

from genvision import device as device_mod
from genvision.config import apply_overrides, describe_options, from_dict, option, parse_options
from genvision.errors import GenvisionError
from genvision.memory import check_fits, check_images_fit, images_bytes
from genvision.outputs import check_output_dir, check_output_file
from genvision.train.config import TrainConfig


@dataclass(frozen=True)
class Opts:
    n: int = option(4, min=1)
    rate: float = option(0.5, gt=0, lt=1)
    free: float = 0.0  # no declared range: still must be finite
    sizes: tuple[int, ...] = option((1, 2), min=1)
    maybe: int | None = option(None, min=0)


@pytest.mark.parametrize("values, message", [
    ({"n": "0"}, "--n must be >= 1, got 0"),
    ({"rate": "0"}, "--rate must be > 0 and < 1, got 0.0"),
    ({"rate": "1"}, "--rate must be > 0 and < 1, got 1.0"),
    ({"rate": "nan"}, "--rate must be a finite number > 0 and < 1, got nan"),
    ({"free": "inf"}, "--free must be a finite number, got inf"),
    ({"free": "-inf"}, "--free must be a finite number, got -inf"),
    ({"sizes": "1,0"}, "--sizes must be >= 1, got 0"),
    ({"maybe": "-1"}, "--maybe must be >= 0, got -1"),
])
def test_parse_options_refuses_values_outside_the_declared_range(values, message):
    with pytest.raises(GenvisionError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        parse_options(Opts, values)


def test_values_inside_the_range_pass_and_none_is_unset():
    opts = parse_options(Opts, {"n": "1", "rate": "0.999", "free": "-3", "sizes": "3", "maybe": "none"})
    assert (opts.n, opts.rate, opts.free, opts.sizes, opts.maybe) == (1, 0.999, -3.0, (3,), None)


def test_a_check_function_runs_on_parse_but_not_on_a_stored_config():
    seen = []

    @dataclass(frozen=True)
    class WithCheck:
        device: str = option("cpu", check=lambda v, name: seen.append((v, name)))

    parse_options(WithCheck, {"device": "x"})
    from_dict(WithCheck, {"device": "y"})  # a stored config: checked where it is used, not where it is read
    assert seen == [("x", "--device")]


def test_train_config_holds_its_ranges_however_it_is_built():
    with pytest.raises(GenvisionError, match="--log-every must be >= 1, got 0"):
        TrainConfig(log_every=0)
    configs = {"train": TrainConfig()}
    with pytest.raises(GenvisionError, match="--ckpt-every must be >= 0, got -1"):
        apply_overrides(configs, {"ckpt_every": "-1"})
    with pytest.raises(GenvisionError, match="--lr must be a finite number > 0, got nan"):
        apply_overrides(configs, {"lr": "nan"})
    stored = dataclasses.asdict(TrainConfig()) | {"keep_checkpoints": -2}
    with pytest.raises(GenvisionError, match="^run.json: --keep-checkpoints must be >= 0, got -2$"):
        from_dict(TrainConfig, stored, where="run.json")
    assert apply_overrides(configs, {"ckpt_every": "0", "log_every": "1"})["train"].log_every == 1


def test_a_model_float_without_a_range_must_still_be_finite():
    from genvision.models import make_run_spec

    with pytest.raises(GenvisionError, match="^--dead-code-threshold must be a finite number, got nan$"):
        make_run_spec("vqvae", preset="tiny", overrides={"dead_code_threshold": "nan"})
    with pytest.raises(GenvisionError, match="^--tau-rate must be a finite number >= 0, got inf$"):
        make_run_spec("dvae-mixture", preset="tiny", overrides={"tau_rate": "inf"})


def test_describe_options_shows_defaults_and_ranges():
    lines = describe_options(Opts)
    assert "  --n=4  (>= 1)" in lines and "  --rate=0.5  (> 0 and < 1)" in lines and "  --free=0.0" in lines


# ---- devices --------------------------------------------------------------------------------------------


def test_device_names_this_machine_can_use_pass():
    for name in ("cpu", "auto"):
        device_mod.check_device(name)
    assert device_mod.resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name, message", [
    ("nosuch", "--device='nosuch' is not a device; accepted: auto, cpu, cuda, cuda:N, mps"),
    ("", "--device='' is not a device"),
    ("meta", "genvision does not run on 'meta' devices"),
])
def test_unknown_devices_are_one_line_errors(name, message):
    with pytest.raises(GenvisionError, match=message.replace("(", r"\(")):
        device_mod.check_device(name)


def test_cuda_on_a_torch_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None)
    with pytest.raises(GenvisionError, match="--device=cuda: this torch .* is built without CUDA"):
        device_mod.check_device("cuda")


def test_cuda_without_a_visible_gpu_or_beyond_the_last(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(GenvisionError, match="no CUDA GPU is visible"):
        device_mod.check_device("cuda:0", "--device")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    device_mod.check_device("cuda:0")
    with pytest.raises(GenvisionError, match=r"only 1 CUDA GPU\(s\) are visible, cuda:0..cuda:0"):
        device_mod.check_device("cuda:1")


# ---- output paths ---------------------------------------------------------------------------------------


def test_output_files_accepted(tmp_path):
    assert check_output_file(tmp_path / "new" / "deeper" / "x.png") == tmp_path / "new" / "deeper" / "x.png"
    check_output_file(tmp_path / "x.PNG")  # the extension in any case
    (tmp_path / "old.npz").write_bytes(b"")
    check_output_file(tmp_path / "old.npz", suffixes=(".png", ".npz"))


def test_output_file_refusals(tmp_path):
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir.png").mkdir()
    cases = [
        (tmp_path / "x.jpg", "cannot write a .jpg file; accepted: .png, .npz"),
        (tmp_path / "noext", "cannot write a name without an extension"),
        (tmp_path / "adir.png", "is a folder; give a file name"),
        (tmp_path / "afile" / "deeper" / "x.png", "afile is a file, so nothing can be written under it"),
    ]
    for path, message in cases:
        with pytest.raises(GenvisionError, match=message):
            check_output_file(path, suffixes=(".png", ".npz"))
    with pytest.raises(GenvisionError, match="^--out needs a file name ending in .png$"):
        check_output_file("")


def test_output_dir_refusals(tmp_path):
    (tmp_path / "afile").write_text("")
    assert check_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    with pytest.raises(GenvisionError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "afile")
    with pytest.raises(GenvisionError, match="^run folder .*afile is a file, so nothing can be written under it$"):
        check_output_dir(tmp_path / "afile" / "run", option="run folder")


def test_a_read_only_folder_is_refused(tmp_path, monkeypatch):
    """The permission test itself is os.access; root may write anywhere, so the denial is simulated for it."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p) == os.fspath(ro) else real(p, mode))
    try:
        with pytest.raises(GenvisionError, match="the folder .*ro is not writable"):
            check_output_file(ro / "x.png")
        with pytest.raises(GenvisionError, match="the folder .*ro is not writable"):
            check_output_file(ro / "sub" / "x.png")
        with pytest.raises(GenvisionError, match="the folder is not writable"):
            check_output_dir(ro)
    finally:
        ro.chmod(0o755)


# ---- memory ---------------------------------------------------------------------------------------------


def test_images_bytes_counts_floats_their_bytes_and_the_grid():
    assert images_bytes(10, (1, 28, 28)) == 10 * 5 * 784
    assert images_bytes(10, (3, 8, 8), grid=True) == 10 * (5 * 192 + 6 * 100)


def test_memory_estimate_refuses_with_the_figure_and_the_limit():
    check_fits(799, what="x", hint="h", available=1000)
    with pytest.raises(GenvisionError, match=r"^--n=7 \(7 images of 1x28x28\) needs about 27.4 KB of memory, more "
                                             r"than the limit of 8.0 KB \(80% of the 10.0 KB available now\); ask "
                                             r"for fewer images$"):
        check_images_fit(7, (1, 28, 28), what="--n=7", available=10_000)
