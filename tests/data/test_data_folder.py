"""Image-folder datasets: class subfolders or flat, gray or RGB, resizing, and the error cases."""

import numpy as np
import pytest
import torch
from PIL import Image

from genvision.data import load_dataset
from genvision.errors import GenvisionError


def _save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return array


def _gray(seed, size=(5, 7)):
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)


def test_class_subfolders_gray_round_trip(tmp_path):
    saved = {}
    for c, name in enumerate(["zebra", "apple", "mango"]):
        for i in range(4):
            saved[(name, i)] = _save(tmp_path / name / f"{i}.png", _gray(10 * c + i))
    (tmp_path / "apple" / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden").mkdir()
    train = load_dataset("folder", data_dir=tmp_path, seed=2)
    val = load_dataset("folder", split="val", data_dir=tmp_path, seed=2)
    assert (len(train), len(val)) == (11, 1)
    assert train.class_names == ["apple", "mango", "zebra"] and train.num_classes == 3
    assert train.image_shape == (1, 5, 7)  # (C, H, W) of a 7-wide, 5-high image
    # every image comes back exactly, with its class's index
    lookup = {a.tobytes(): ["apple", "mango", "zebra"].index(name) for (name, _), a in saved.items()}
    for ds in (train, val):
        for img, lab in zip(ds.images, ds.labels, strict=True):
            assert lookup[img[0].numpy().tobytes()] == int(lab)
    assert sorted(torch.cat([train.labels, val.labels]).tolist()) == [0] * 4 + [1] * 4 + [2] * 4


def test_flat_rgb_jpeg_unlabelled(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(20):
        _save(tmp_path / f"im{i:02d}.jpg", rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
    ds = load_dataset("folder", data_dir=tmp_path)
    assert ds.labels is None and ds.num_classes == 0 and ds.class_names is None
    assert ds.image_shape == (3, 6, 6) and len(ds) == 18
    assert len(load_dataset("folder", split="val", data_dir=tmp_path)) == 2


def test_rgb_exact_values_png(tmp_path):
    array = np.random.default_rng(3).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    _save(tmp_path / "a.png", array)
    _save(tmp_path / "b.png", array)
    ds = load_dataset("folder", data_dir=tmp_path)
    assert torch.equal(ds.images[0], torch.from_numpy(array).permute(2, 0, 1))


def test_resize_and_channels(tmp_path):
    _save(tmp_path / "a.png", _gray(0, (10, 10)))
    _save(tmp_path / "b.png", np.full((4, 8), 200, np.uint8))  # mixed sizes: fine with image_size
    ds = load_dataset("folder", data_dir=tmp_path, image_size=6, channels=3)
    val = load_dataset("folder", split="val", data_dir=tmp_path, image_size=6, channels=3)
    both = torch.cat([ds.images, val.images])
    assert both.shape == (2, 3, 6, 6)
    assert torch.equal(both[:, 0], both[:, 1]) and torch.equal(both[:, 1], both[:, 2])  # gray -> RGB copies
    constant = both[(both == 200).flatten(1).all(1)]
    assert len(constant) == 1  # a constant image stays constant under bilinear resizing


def test_mixed_sizes_need_image_size(tmp_path):
    _save(tmp_path / "a.png", _gray(0, (4, 4)))
    _save(tmp_path / "b.png", _gray(1, (5, 4)))
    with pytest.raises(GenvisionError, match=r"b.png: size 4x5 differs from .*a.png's 4x4; pass image_size"):
        load_dataset("folder", data_dir=tmp_path)


def test_mixed_modes_default_to_rgb(tmp_path):
    _save(tmp_path / "a.png", _gray(0, (4, 4)))
    _save(tmp_path / "b.png", np.zeros((4, 4, 3), np.uint8))
    assert load_dataset("folder", data_dir=tmp_path).image_shape == (3, 4, 4)
    assert load_dataset("folder", data_dir=tmp_path, channels=1).image_shape == (1, 4, 4)


def test_unreadable_image(tmp_path):
    _save(tmp_path / "a.png", _gray(0))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(GenvisionError, match="broken.png: unreadable image"):
        load_dataset("folder", data_dir=tmp_path)


def test_truncated_image(tmp_path):
    _save(tmp_path / "a.png", _gray(0, (30, 30)))
    _save(tmp_path / "b.png", _gray(1, (30, 30)))
    raw = (tmp_path / "b.png").read_bytes()
    (tmp_path / "b.png").write_bytes(raw[: len(raw) // 2])
    for split in ("train", "val"):  # b.png is in one of them
        try:
            load_dataset("folder", split=split, data_dir=tmp_path)
        except GenvisionError as e:
            assert "b.png: unreadable image" in str(e)
            return
    pytest.fail("truncated image was not reported")


def test_layout_errors(tmp_path):
    with pytest.raises(GenvisionError, match="image folder .*missing not found"):
        load_dataset("folder", data_dir=tmp_path / "missing")
    with pytest.raises(GenvisionError, match="folder needs data_dir"):
        load_dataset("folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenvisionError, match="no PNG/JPEG images"):
        load_dataset("folder", data_dir=tmp_path / "empty")
    _save(tmp_path / "mix" / "loose.png", _gray(0))
    _save(tmp_path / "mix" / "cat" / "a.png", _gray(1))
    with pytest.raises(GenvisionError, match="mixes loose images"):
        load_dataset("folder", data_dir=tmp_path / "mix")
    (tmp_path / "mix" / "loose.png").unlink()
    (tmp_path / "mix" / "dog").mkdir()
    with pytest.raises(GenvisionError, match="dog: class folder without"):
        load_dataset("folder", data_dir=tmp_path / "mix")


def test_no_test_split_and_single_image(tmp_path):
    _save(tmp_path / "a.png", _gray(0))
    assert len(load_dataset("folder", data_dir=tmp_path)) == 1
    with pytest.raises(GenvisionError, match="too few for a validation split"):
        load_dataset("folder", split="val", data_dir=tmp_path)
    with pytest.raises(GenvisionError, match="has only 'train' and 'val' splits, no 'test'"):
        load_dataset("folder", split="test", data_dir=tmp_path)
