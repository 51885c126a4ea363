"""Options on the command line: bare flags, integer options, and names that two configs would share."""

import pytest

from genvision.cli import main
from genvision.config import parse_key_values


def _err(capsys, *argv):
    rc = main(list(argv))
    err = capsys.readouterr().err
    return rc, err


def test_bare_flag_is_true():
    assert parse_key_values(["--resume"]) == {"resume": True}
    assert parse_key_values(["--resume", "--n=3"]) == {"resume": True, "n": "3"}
    assert parse_key_values(["--n", "3", "--measure"]) == {"n": "3", "measure": True}


def test_bare_resume_continues_a_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", "ddpm", "--preset=tiny", "--progress=false", "--name=r", "--steps=2"]
    assert main(args) == 0
    assert main([*args, "--steps=3", "--resume"]) == 0
    assert "resumed from step 2" in capsys.readouterr().out


def test_bare_flag_on_a_valued_option_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, err = _err(capsys, "train", "ddpm", "--preset=tiny", "--steps")
    assert rc == 2 and err.startswith("error: ") and "--steps" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ["complete", "pretrained:pixelcnn-mnist", "--rows=abc"],
    ["complete", "pretrained:pixelcnn-mnist", "--images=1.5"],
    ["sample", "pretrained:ddpm-mnist", "--n=x", "--out=a.png"],
    ["sample", "pretrained:ddpm-mnist", "--seed=x", "--out=a.png"],
    ["eval", "pretrained:ddpm-mnist", "--n=abc"],
    ["eval", "pretrained:ddpm-mnist", "--batch=abc"],
    ["guidance-sweep", "pretrained:cfg-mnist", "--steps=abc"],
    ["guidance-sweep", "pretrained:cfg-mnist", "--n-per-class=abc"],
    ["report", "--n=abc"],
    ["patch-vq", "mnist5k", "--seed=abc"],
    ["patch-vq", "mnist5k", "--k"],
])
def test_integer_options_give_one_error_line(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    rc, err = _err(capsys, *argv)
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
