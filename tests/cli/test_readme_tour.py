"""Every command line of README.md's CLI tour runs as written, in order, with small sizes appended
(`--n=...`, `--steps=...`; a later --key wins) and the tiny architecture for training."""

import re
import shlex
from pathlib import Path

import pytest

from genvision.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
TINY_TRAIN = ["--preset=tiny", "--data=mnist5k"]  # before the line's own options: they win
AFTER = {  # appended after the line's options: they win
    "train": ["--steps=2", "--progress=false", "--bf16=false", "--log-every=1"],
    "sample": ["--n=10"],
    "eval": ["--n=10"],
    "guidance-sweep": ["--n-per-class=1", "--steps=2"],
    "complete": ["--images=1", "--samples=1"],
    "patch-vq": ["--n=20", "--ks=2,4", "--iters=2"],
    "report": ["--n=2", "--steps=1"],
}
SLOW = {"genvision report --out=report/"}  # every shipped model's figures: minutes on a loaded 2-core CPU


def write_binary_digits(folder: Path) -> None:
    import numpy as np
    from PIL import Image

    from genvision.data import load_dataset

    folder.mkdir(exist_ok=True)
    images = load_dataset("mnist5k", split="val").images[:2, 0].numpy()
    for i, img in enumerate(images):
        Image.fromarray(np.where(img > 127, 255, 0).astype(np.uint8)).save(folder / f"{i}.png")


def tour_lines() -> list[str]:
    """The `genvision ...` lines of the README's CLI tour block, continuation lines joined, comments cut."""
    text = README.read_text()
    block = re.search(r"```bash\n(genvision models.*?)```", text, re.S).group(1)
    block = block.replace("\\\n", " ")
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith("genvision ")]


def test_the_tour_is_found():
    lines = tour_lines()
    assert len(lines) >= 20 and lines[0] == "genvision models"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("tour")


@pytest.mark.parametrize("line", [pytest.param(x, marks=pytest.mark.slow) if x in SLOW else x
                                  for x in tour_lines()])
def test_readme_line_runs(line, workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    argv = shlex.split(line)[1:]
    cmd = argv[0]
    if cmd == "train" and not any(a.startswith("--preset") for a in argv):
        argv = [cmd, argv[1], *TINY_TRAIN, *argv[2:]]
    if not (cmd == "eval" and argv[1].lower().endswith(".npz")):  # a samples file is scored whole: no --n
        argv += AFTER.get(cmd, [])
    if "--resume" in argv:
        argv.append("--steps=3")  # the line before trained this run for 2 steps: go one further
    if cmd in ("sample", "eval") and re.search(r"cfg|ddpm", argv[1]):
        argv.append("--steps=2")  # DDIM steps of a diffusion model
    if cmd == "compress":  # the line compresses a folder of the user's digits: give it two binary 28x28 PNGs
        write_binary_digits(workdir / "digits")
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 0, f"{line}: {err}"
