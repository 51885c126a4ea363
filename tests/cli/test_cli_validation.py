"""The bad inputs of issue 19 through the CLI, each one `error:` line naming what was wrong (the fuzz tests in
test_fuzz_options.py generate many more), output paths refused before any work, `CMD --help`, a closed
pipe, and sampling in batches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genvision.cli import main
from genvision.models import get_entry, make_run_spec, run_config_dict
from genvision.train import checkpoint as ckpt

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def tiny_cfg(tmp_path_factory) -> str:
    """A checkpoint of an untrained class-conditional DDPM (cfg tiny preset, 1x8x8), written without training;
    its output layer is perturbed so that samples depend on the noise (a zero layer would give eps = 0)."""
    from genvision.config import from_dict

    spec = make_run_spec("cfg", preset="tiny", overrides={"data": "digits"})
    config = run_config_dict(spec, image_shape=(1, 8, 8), num_classes=10)
    entry = get_entry("cfg")
    torch.manual_seed(0)
    model = entry.make(from_dict(entry.config_cls, config["model_config"]), (1, 8, 8), 10)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp("cfg") / "cfg.safetensors"
    return str(ckpt.save_checkpoint(path, step=1, config=config, model=model.state_dict()))


def _error(capsys, *argv: str) -> str:
    rc = main(list(argv))
    captured = capsys.readouterr()
    assert rc == 2, (rc, captured.err, captured.out)
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    return captured.err


TRAIN = ["train", "ddpm", "--preset=tiny", "--progress=false", "--steps=2"]


@pytest.mark.parametrize("extra, message", [
    (["--log-every=0"], "--log-every must be >= 1, got 0"),
    (["--ckpt-every=-1"], "--ckpt-every must be >= 0, got -1"),
    (["--val-batches=0"], "--val-batches must be >= 1, got 0"),
    (["--keep-checkpoints=-1"], "--keep-checkpoints must be >= 0, got -1"),
    (["--lr=nan"], "--lr must be a finite number > 0, got nan"),
    (["--grad-clip=inf"], "--grad-clip must be a finite number >= 0, got inf"),
    (["--min-lr-ratio=2"], "--min-lr-ratio must be >= 0 and <= 1, got 2.0"),
    (["--dropout=1"], "--dropout must be >= 0 and < 1, got 1.0"),
    (["--attention-heads=0"], "--attention-heads must be >= 1, got 0"),
    (["--attention-heads=3"], "attention_heads=3 must divide the 16 channels"),
    (["--device=nosuch"], "--device='nosuch' is not a device"),
    (["--resume=maybe"], "--resume: expected bool, got 'maybe'"),
])
def test_training_options_out_of_range(capsys, tmp_path, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    assert message in _error(capsys, *TRAIN, *extra)
    assert not (tmp_path / "runs").exists() or message.startswith("attention_heads")


@pytest.mark.parametrize("extra, message", [
    (["--n=0"], "--n must be >= 1, got 0"),
    (["--n=-3"], "--n must be >= 1, got -3"),
    (["--batch=0"], "--batch must be >= 1, got 0"),
    (["--label=-1"], "--label must be >= 0, got -1"),
    (["--device=nosuch"], "--device='nosuch' is not a device"),
    (["--guidance-weight=nan"], "--guidance-weight must be a finite number, got nan"),
    (["--guidance-weight=inf"], "--guidance-weight must be a finite number, got inf"),
    (["--classifier-scale=4"], "--classifier-scale=4 needs --classifier=NOISY_RUN"),
    (["--classifier=runs/noisy"], "--classifier needs --classifier-scale=S with S != 0"),
    (["--steps=0"], "--steps must be >= 1, got 0"),
    (["--eta=1e308"], "--eta must be >= 0 and <= 1, got 1e+308"),
    (["--sampler=euler"], "--sampler: expected one of ddim, ddpm, got 'euler'"),
    (["--n=1000000000000"], "needs about"),
])
def test_sampling_options_out_of_range(capsys, tmp_path, tiny_cfg, extra, message):
    err = _error(capsys, "sample", tiny_cfg, f"--out={tmp_path / 'x.png'}", *extra)
    assert message in err
    assert not (tmp_path / "x.png").exists()


def test_a_huge_n_is_refused_with_the_figure_and_the_limit(capsys, tmp_path, tiny_cfg):
    err = _error(capsys, "sample", tiny_cfg, "--n=1000000000000", f"--out={tmp_path / 'x.npz'}")
    assert "--n=1000000000000 (1000000000000 images of 1x8x8) needs about 320.0 TB of memory, more than the " \
           "limit of" in err and "available now" in err


@pytest.mark.parametrize("argv, message", [
    (["complete", "pretrained:pixelcnn-mnist", "--images=0"], "--images must be >= 1, got 0"),
    (["complete", "pretrained:pixelcnn-mnist", "--samples=-1"], "--samples must be >= 1, got -1"),
    (["eval", "pretrained:ddpm-mnist", "--batch=0"], "--batch must be >= 1, got 0"),
    (["eval", "pretrained:ddpm-mnist", "--metrics=fid,nope"], "--metrics: unknown metric 'nope'"),
    (["guidance-sweep", "pretrained:cfg-mnist", "--weights=0,nan"], "--weights must be one or more finite"),
    (["patch-vq", "mnist5k", "--ks=4,0"], "--ks needs one or more integers >= 1"),
    (["complete", "pretrained:pixelcnn-mnist", "--rows=28"], "--rows=28 leaves nothing to complete"),
    (["eval", "pretrained:ddpm-mnist", "--data=nosuch"], "--data='nosuch': unknown data set"),
    (["sample", "pretrained:vqvae-prior-mnist", "--out=x.png", "--plausibility=2"],
     "--plausibility must be >= 0 and <= 1, got 2.0"),
    (["sample", "pretrained:dvae-tokens-prior-mnist", "--out=x.png", "--temperature=0"],
     "--temperature must be > 0, got 0.0"),
    (["eval", "pretrained:ddpm-mnist", "--device=nosuch"], "--device='nosuch' is not a device"),
])
def test_other_commands_options_out_of_range(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert message in _error(capsys, *argv)


def test_device_cuda_without_cuda_is_one_line(capsys, tmp_path, tiny_cfg, monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None)
    err = _error(capsys, "sample", tiny_cfg, "--device=cuda", f"--out={tmp_path / 'x.png'}")
    assert "--device=cuda: this torch" in err and "built without CUDA" in err


# ---- output paths, before any work ---------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["sample", "no/such/run", "--out=x.jpg"], "--out=x.jpg: cannot write a .jpg file; accepted: .png, .npz"),
    (["sample", "no/such/run", "--out=afile/x.png"], "afile is a file, so nothing can be written under it"),
    (["sample", "no/such/run", "--out=adir.png"], "--out=adir.png is a folder"),
    (["complete", "no/such/run", "--out=x.jpg"], "cannot write a .jpg file; accepted: .png"),
    (["eval", "no/such/run", "--out=afile/e.json"], "afile is a file"),
    (["eval", "no/such/run", "--out=e.txt"], "cannot write a .txt file; accepted: .json"),
    (["guidance-sweep", "no/such/run", "--out=afile"], "--out=afile is a file, not a folder"),
    (["report", "no/such/run", "--out=afile/r"], "afile is a file"),
    (["patch-vq", "no/such/data", "--out=afile"], "--out=afile is a file, not a folder"),
    (["compress", "patch-vq", "no/such/dir", "--out=x.zip"], "cannot write a .zip file; accepted: .gv"),
    (["decompress", "no/such.gv", "--out=afile/x"], "afile is a file"),
    (["train", "ddpm", "--preset=tiny", "--runs-dir=afile"], "run folder afile/ddpm-digits: afile is a file"),
])
def test_output_paths_are_checked_before_any_work(capsys, tmp_path, monkeypatch, argv, message):
    """The targets do not exist: the path error coming first shows it is checked before anything is loaded."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir.png").mkdir()
    assert message in _error(capsys, *argv)


def test_a_read_only_out_folder_is_refused_before_sampling(capsys, tmp_path, tiny_cfg, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access  # root may write anywhere: the denial is simulated for this folder
    monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p) == os.fspath(ro) else real(p, mode))
    import genvision.loading

    monkeypatch.setattr(genvision.loading, "load_target", lambda *a, **k: pytest.fail("loaded before the check"))
    err = _error(capsys, "sample", tiny_cfg, f"--out={ro / 'x.png'}")
    assert f"the folder {ro} is not writable" in err


def test_upper_case_extensions_pick_the_writer(capsys, tmp_path, tiny_cfg):
    assert main(["sample", tiny_cfg, "--n=3", "--steps=2", f"--out={tmp_path / 's.NPZ'}"]) == 0
    with np.load(tmp_path / "s.NPZ") as f:
        assert f["images"].shape == (3, 8, 8, 1)


# ---- sampling in batches ---------------------------------------------------------------------------------


def test_sampling_in_batches_matches_one_batch_when_it_fits(capsys, tmp_path, tiny_cfg):
    def sample(name, batch):
        assert main(["sample", tiny_cfg, "--n=5", "--steps=2", f"--batch={batch}", f"--out={tmp_path / name}"]) == 0
        with np.load(tmp_path / name) as f:
            return f["images"]

    one, fits, split = sample("a.npz", 256), sample("b.npz", 5), sample("c.npz", 2)
    assert np.array_equal(one, fits) and one.std() > 0
    assert split.shape == one.shape  # three model.sample calls of 2, 2 and 1 from the same generator


# ---- help and a closed pipe -----------------------------------------------------------------------------


@pytest.mark.parametrize("argv, expected", [
    (["train", "--help"], "genvision train MODEL"),
    (["train", "-h"], "models: cfg, ddpm"),
    (["train", "ddpm", "--help"], "  --log-every=50  (>= 1)"),
    (["sample", "--help"], "--out FILE.png|FILE.npz"),
    (["eval", "--help"], "eval-2.json"),
    (["decompress", "--help"], "genvision decompress FILE.gv"),
])
def test_command_help(capsys, argv, expected):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert expected in captured.out and not captured.err


def test_help_into_a_closed_pipe_prints_no_traceback():
    """`genvision --help | head -1`: the reader is gone before genvision writes."""
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    for args in (["--help"], ["train", "--help"]):
        proc = subprocess.run([sys.executable, "-c", "import sys; from genvision.cli import main; sys.exit(main())",
                               *args], stdout=write, stderr=subprocess.PIPE, env=env, timeout=120)
        assert proc.returncode == 141 and proc.stderr == b"", proc.stderr.decode()
    os.close(write)


@pytest.mark.parametrize("option, message", [
    ("--plausibility=2", "--plausibility must be >= 0 and <= 1, got 2.0"),
    ("--temperature=0", "--temperature must be > 0, got 0.0"),
    ("--method=bogus", "--method='bogus': the sampling method is one of fast, window, naive"),
    ("--guidance-weight=nan", "--guidance-weight must be a finite number, got nan"),
])
@pytest.mark.parametrize("model", ["pixelcnn-mnist", "vqvae-prior-mnist", "dvae-tokens-prior-mnist"])
def test_autoregressive_sample_options_are_checked_before_sampling(model, option, message, tmp_path, capsys):
    if model == "dvae-tokens-prior-mnist" and option.startswith("--method"):
        pytest.skip("the token prior has no method option")
    out = tmp_path / "x.png"
    assert main(["sample", f"pretrained:{model}", "--n=2", option, f"--out={out}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not out.exists()
