"""The command line: one-line errors, train -> sample -> eval round trip on a tiny model."""

import numpy as np
import pytest

from genvision.cli import main


def _run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("argv, message", [
    (["train", "ddpm", "--preset=tiny", "--lx=1"], "unknown option --lx; valid options:"),
    (["train", "ddpm", "--preset=tiny", "--lr=abc"], "--lr: expected float, got 'abc'"),
    (["train", "ddpm", "--preset=tiny", "--bf16=maybe"], "--bf16: expected bool"),
    (["train", "nonexistent"], "unknown model 'nonexistent'"),
    (["train", "ddpm", "--preset=huge"], "has no preset 'huge'"),
    (["train", "ddpm", "--preset=tiny", "--data=nope"], "nope"),
    (["sample", "no/such/run", "--out", "x.png"], "neither a checkpoint file nor a run folder"),
    (["frobnicate"], "unknown command"),
])
def test_bad_input_is_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    rc, _, err = _run(capsys, *argv)
    assert rc == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_train_sample_eval_round_trip(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "train", "cfg", "--preset=tiny", "--progress=false", "--name=c")[0] == 0
    assert (tmp_path / "runs/c/config.json").exists()
    rc, out, _ = _run(capsys, "sample", "runs/c", "--n", "6", "--label", "3", "--guidance-lambda", "0.5",
                      "--out", "s.npz", "--steps", "3")
    assert rc == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (6, 8, 8, 1) and f["images"].dtype == np.uint8
        assert f["labels"].tolist() == [3] * 6
    rc, _, err = _run(capsys, "sample", "runs/c", "--n", "2", "--label", "10", "--out", "s.png")
    assert rc == 2 and "out of range" in err
    rc, _, err = _run(capsys, "sample", "runs/c", "--n", "2", "--steps", "x", "--out", "s.png")
    assert rc == 2 and "--steps: expected int" in err
    # resuming a finished run trains no further; a second run without --resume is refused
    rc, _, err = _run(capsys, "train", "cfg", "--preset=tiny", "--progress=false", "--name=c")
    assert rc == 2 and "--resume" in err
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 64)
    rc, _, err = _run(capsys, "sample", "bad.safetensors", "--out", "x.png")
    assert rc == 2 and "corrupt" in err


def test_data_listing(capsys):
    rc, out, _ = _run(capsys, "data")
    assert rc == 0 and "mnist5k" in out and "cifar10" in out
    rc, out, _ = _run(capsys, "data", "digits")
    assert rc == 0 and "10" in out


def test_train_class_conditional_with_no_sample_grid(tmp_path):
    """num_samples=0 turns the sample grid off (a class-conditional model once crashed on empty labels)."""
    from genvision.cli import main

    args = ["train", "cfg", "--preset=tiny", "--steps=2", "--num_samples=0", f"--runs_dir={tmp_path}", "--name=r"]
    assert main(args) == 0
    assert not (tmp_path / "r" / "samples").exists() or not any((tmp_path / "r" / "samples").iterdir())


def test_demo_writes_its_pictures_then_reuses_the_model(capsys, tmp_path, monkeypatch):
    """`make demo`'s job on a tiny network: the three pictures, no duplicate end-of-training sample grid; a second
    run reuses the trained model, and refuses options it could not apply."""
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    tiny = ["--steps=2", "--base-channels=8", "--channel-mults=1,2", "--attention-resolutions=",
            "--batch-size=8", "--progress=false"]
    rc, out, err = _run(capsys, "demo", *tiny)
    assert rc == 0, err
    run = tmp_path / "runs/demo-cfg"
    sizes = {name: Image.open(run / name).size for name in ("class_x_lambda.png", "class_x_weight.png",
                                                            "filmstrip.png")}
    assert sizes["class_x_lambda.png"][1] > sizes["class_x_lambda.png"][0]  # 10 class rows x 5 lambda columns
    assert not (run / "samples").exists()
    rc, _, err = _run(capsys, "demo", "--steps=5")
    assert rc == 2 and "--steps=5 would be ignored" in err and err.count("\n") == 1

    class Drawn(Exception):
        pass

    def stop(*args, **kwargs):  # the pictures were drawn above: stop the second run where it would draw again
        raise Drawn

    monkeypatch.setattr("genvision.diffusion.sweep.class_by_weight_grid", stop)
    with pytest.raises(Drawn):
        main(["demo"])
    assert "using the trained model in runs/demo-cfg" in capsys.readouterr().out
