"""Classic patch VQ: patch layout, nearest-patch coding against numpy, exact round trip when every distinct
patch has a code, the rate formula, the sweep, the figures and the command."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from genvision.errors import GenvisionError
from genvision.quantize import (
    PatchCodebook,
    decode,
    encode,
    fit_patch_codebook,
    rate_bits_per_pixel,
    rate_distortion_sweep,
)
from genvision.quantize.cli import cmd_patch_vq
from genvision.quantize.patch_vq import from_patches, to_patches
from genvision.quantize.patch_vq_figures import plot_rate_distortion, save_mosaic


def test_patches_are_p_by_p_blocks_and_invert():
    x = torch.randn(2, 3, 6, 4)
    patches = to_patches(x, 2)
    assert patches.shape == (2, 3, 2, 12)
    torch.testing.assert_close(patches[1, 2, 0], x[1, :, 4:6, 0:2].reshape(-1))
    assert torch.equal(from_patches(patches, 2), x)
    with pytest.raises(GenvisionError, match="patch=4"):
        to_patches(x, 4)


def test_encode_matches_numpy_nearest_patch():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(3, 1, 8, 8, generator=g) * 2 - 1
    book = PatchCodebook(torch.rand(5, 16, generator=g) * 2 - 1, 4)
    codes = encode(images, book)
    assert codes.shape == (3, 2, 2) and codes.dtype == torch.int64
    patches = images.numpy().reshape(3, 1, 2, 4, 2, 4).transpose(0, 2, 4, 1, 3, 5).reshape(-1, 16)
    brute = ((patches[:, None] - book.codebook.numpy()[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(codes.reshape(-1).numpy(), brute)
    assert torch.equal(decode(codes, book)[0, 0, :4, 4:], book.codebook[codes[0, 0, 1]].view(4, 4))


def test_round_trip_is_exact_when_k_covers_the_distinct_patches():
    g = torch.Generator().manual_seed(1)
    tiles = torch.tensor([[-1.0, 1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0], [0.2, -0.4, 0.6, 1.0]])
    code_map = torch.randint(0, 3, (4, 3, 3), generator=g)
    images = from_patches(tiles[code_map], 2)  # (4, 1, 6, 6) built from 3 distinct 2x2 patches
    book = fit_patch_codebook(images, k=5, patch=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(decode(encode(images, book), book), images)
    small = fit_patch_codebook(images, k=2, patch=2, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(decode(encode(images, small), small), images)


def test_rate_formula():
    assert rate_bits_per_pixel(64, 4) == pytest.approx(6 / 16)
    assert rate_bits_per_pixel(2, 1) == pytest.approx(1.0)
    with_book = rate_bits_per_pixel(64, 4, channels=3, n_images=10, image_pixels=784, codebook_bits=8)
    assert with_book == pytest.approx(6 / 16 + 64 * 3 * 16 * 8 / (10 * 784))
    with pytest.raises(GenvisionError):
        rate_bits_per_pixel(0, 4)


def digits(n=60):
    from genvision.data import load_dataset

    return load_dataset("digits").float_images(torch.arange(n))


def test_sweep_rows_and_more_codes_lower_the_distortion(tmp_path):
    rows = rate_distortion_sweep(digits(), [2, 32], [2, 4], iters=5, generator=torch.Generator().manual_seed(0))
    assert [(r["patch"], r["k"]) for r in rows] == [(2, 2), (2, 32), (4, 2), (4, 32)]
    for r in rows:
        assert r["bpp"] == pytest.approx(math.log2(r["k"]) / r["patch"] ** 2)
        assert r["bpp_with_codebook"] > r["bpp"]
    assert rows[1]["psnr"] > rows[0]["psnr"] + 3 and rows[3]["psnr"] > rows[2]["psnr"] + 3
    path = plot_rate_distortion(rows, tmp_path / "rd.png", points=[("vqvae K=64", 0.375, 25.7)])
    assert Image.open(path).size[0] > 100


def test_mosaic_png(tmp_path):
    images = digits(20)
    book = fit_patch_codebook(images, k=8, patch=2, generator=torch.Generator().manual_seed(0))
    path = save_mosaic(images[0], book, tmp_path / "m.png")
    width, height = Image.open(path).size
    assert width > 2 * height  # four panels side by side


def test_patch_vq_command_on_a_dataset_and_an_image(tmp_path, capsys):
    out = tmp_path / "run"
    assert cmd_patch_vq(["digits", "--k=8", "--patch=2", "--n=40", "--ks=2,8", "--patches=2", f"--out={out}"]) == 0
    assert (out / "mosaic.png").is_file() and (out / "rate_distortion.png").is_file()
    assert "PSNR" in capsys.readouterr().out
    img = tmp_path / "x.png"
    Image.fromarray((np.arange(100).reshape(10, 10) * 2).astype(np.uint8)).save(img)
    assert cmd_patch_vq([str(img), "--k=4", "--patch=2", "--ks=2", f"--out={tmp_path / 'img'}"]) == 0
    with pytest.raises(GenvisionError, match="neither"):
        cmd_patch_vq(["no-such-thing"])
