"""`train --resume` continues a run with the config stored in it; flags may change only what is safe."""

import json

import pytest

from genvision.cli import main
from genvision.train import checkpoint as ckpt

FAST = ["--progress=false", "--num_samples=0", "--val_batches=1"]


def _run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """runs/r: pixelcnn `tiny` preset on digits, trained 2 steps (checkpoints at 1 and 2)."""
    monkeypatch.chdir(tmp_path)
    rc, _, err = _run(capsys, "train", "pixelcnn", "--preset=tiny", "--data=digits", "--name=r", "--steps=2",
                      "--ckpt_every=1", *FAST)
    assert rc == 0, err
    return tmp_path / "runs" / "r"


def test_resume_reads_the_stored_config_and_applies_safe_flags(run, capsys):
    # No --preset, no --data: the run's own (tiny on digits) is used, not the default preset (mnist on mnist5k).
    rc, out, err = _run(capsys, "train", "pixelcnn", "--resume=yes", "--name=r", "--steps=3", "--log_every=1",
                        *FAST)
    assert rc == 0, err
    assert "resumed from step 2 (runs/r/checkpoints/step_00000002.safetensors) with its stored config (steps 2 -> 3, " \
        "log_every" in out
    state = ckpt.load_checkpoint(ckpt.list_checkpoints(run)[-1])
    assert state.step == 3 and state.config["preset"] == "tiny" and state.config["data"]["data"] == "digits"
    assert state.config["model_config"]["hidden"] == 8 and state.config["train"]["steps"] == 3
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 3


@pytest.mark.parametrize("flags, refused", [
    (["--lr=0.5"], ["--lr=0.5 (the run has 0.001)"]),
    (["--preset=mnist"], ["--preset=mnist (the run has tiny)"]),
    (["--hidden=9", "--data=mnist5k"], ["--hidden=9 (the run has 8)", "--data=mnist5k (the run has digits)"]),
])
def test_resume_refuses_unsafe_changes_naming_each(run, capsys, flags, refused):
    rc, _, err = _run(capsys, "train", "pixelcnn", "--resume=1", "--name=r", "--steps=3", *flags, *FAST)
    assert rc == 2 and err.startswith("error: --resume continues runs/r") and err.count("\n") == 1
    for item in refused:
        assert item in err
    assert ckpt.list_checkpoints(run)[-1].name == "step_00000002.safetensors"


def test_resume_with_repeated_equal_flags_is_accepted(run, capsys):
    rc, _, err = _run(capsys, "train", "pixelcnn", "--preset=tiny", "--data=digits", "--resume=1", "--name=r",
                      "--steps=3", "--hidden=8", *FAST)
    assert rc == 0, err


def test_resume_without_anything_to_resume_is_an_error(run, capsys):
    rc, _, err = _run(capsys, "train", "pixelcnn", "--resume=1", "--name=nosuch", "--steps=3", *FAST)
    assert rc == 2 and "no run folder runs/nosuch" in err
    rc, _, err = _run(capsys, "train", "pixelcnn", "--resume=1", "--name=r", *FAST)
    assert rc == 2 and "already at step 2 of steps=2" in err
    rc, _, err = _run(capsys, "train", "ddpm", "--resume=1", "--name=r", "--steps=3", *FAST)
    assert rc == 2 and "is a 'pixelcnn' run, not 'ddpm'" in err
    for p in ckpt.list_checkpoints(run):
        p.write_bytes(p.read_bytes()[:-1])
    rc, _, err = _run(capsys, "train", "pixelcnn", "--resume=1", "--name=r", "--steps=3", *FAST)
    lines = err.strip().splitlines()
    assert rc == 2 and lines[-1].startswith("error: --resume: run folder runs/r has no valid checkpoint")
    assert [line.split()[0] for line in lines[:-1]] == ["warning:", "warning:"]  # one per skipped file


def test_resume_falls_back_to_the_newest_valid_checkpoint(run, capsys):
    newest = ckpt.list_checkpoints(run)[-1]
    newest.write_bytes(newest.read_bytes()[:-1])
    rc, out, err = _run(capsys, "train", "pixelcnn", "--resume=1", "--name=r", "--steps=3", *FAST)
    assert rc == 0 and "warning: skipping checkpoint" in err and "step_00000002" in err
    assert "resumed from step 1 (runs/r/checkpoints/step_00000001.safetensors)" in out
    assert ckpt.load_checkpoint(ckpt.list_checkpoints(run)[-1]).step == 3
