"""`genvision compress` / `decompress`: round trips through files and one-line errors."""

import numpy as np
import pytest
from PIL import Image

from genvision.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def png_folder(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(5):
        Image.fromarray((rng.random((28, 28)) < 0.2).astype(np.uint8) * 255).save(folder / f"digit_{i}.png")
    return folder


def test_png_folder_round_trip(capsys, tmp_path, png_folder):
    gv = tmp_path / "d.gv"
    rc, out, _ = run(capsys, "compress", "patch-vq", str(png_folder), "--out", str(gv), "--k=16", "--patch=2")
    assert rc == 0 and "5 images 28x28x1" in out
    rc, _, _ = run(capsys, "decompress", str(gv), "--out", str(tmp_path / "back"))
    assert rc == 0
    for f in sorted(png_folder.glob("*.png")):
        assert np.array_equal(np.asarray(Image.open(f)), np.asarray(Image.open(tmp_path / "back" / f.name)))


def test_npz_with_labels_through_the_vqvae(capsys, tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    np.savez(tmp_path / "s.npz", images=images, labels=np.array([7, 1, 3]))
    gv = tmp_path / "s.gv"
    assert run(capsys, "compress", "pretrained:vqvae-mnist", str(tmp_path / "s.npz"), "--out", str(gv),
               "--prior=uniform")[0] == 0
    assert run(capsys, "decompress", str(gv), "--out", str(tmp_path / "back.npz"))[0] == 0
    back = np.load(tmp_path / "back.npz")
    assert back["images"].shape == images.shape and back["labels"].tolist() == [7, 1, 3]
    rc, _, err = run(capsys, "decompress", str(gv), "--out", str(tmp_path / "x.npz"),
                     "--model=pretrained:dvae-tokens-mnist")
    assert rc == 2 and "other weights" in err and len(err.strip().splitlines()) == 1


def test_bad_input_is_one_line(capsys, tmp_path, png_folder):
    gv = tmp_path / "d.gv"
    run(capsys, "compress", "patch-vq", str(png_folder), "--out", str(gv), "--k=4")
    (tmp_path / "cut.gv").write_bytes(gv.read_bytes()[:-5])
    grey = tmp_path / "grey.png"
    Image.fromarray(np.arange(784, dtype=np.uint16).reshape(28, 28).astype(np.uint8)).save(grey)
    cases = [
        (("decompress", str(tmp_path / "cut.gv"), "--out", str(tmp_path / "o")), "damaged"),
        (("compress", "pretrained:pixelcnn-mnist", str(grey), "--out", str(gv)), "--binarize"),
        (("compress", "patch-vq", str(tmp_path / "none"), "--out", str(gv)), "no such file"),
        (("compress", "patch-vq", str(png_folder)), "usage"),
        (("compress", "pretrained:eval-classifier-mnist", str(grey), "--out", str(gv)), "cannot compress"),
    ]
    for argv, message in cases:
        rc, _, err = run(capsys, *argv)
        assert rc == 2 and message in err and err.startswith("error:") and len(err.strip().splitlines()) == 1
