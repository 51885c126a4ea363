"""IDX parser/writer and the mnist / fashion-mnist loaders on tiny files written here."""

import gzip
import struct

import numpy as np
import pytest
import torch

from genvision.data import load_dataset, read_idx, write_idx
from genvision.data.idx import read_idx_images, read_idx_pair
from genvision.errors import GenvisionError


def _fake(n: int, seed: int, size: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def _write_mnist(folder, *, train: int | None = 40, test: int | None = 12, gz: bool = False):
    folder.mkdir(exist_ok=True)
    ext = ".gz" if gz else ""
    parts = {}
    if train is not None:
        parts["train"] = _fake(train, 1)
        write_idx(folder / f"train-images-idx3-ubyte{ext}", parts["train"][0])
        write_idx(folder / f"train-labels-idx1-ubyte{ext}", parts["train"][1])
    if test is not None:
        parts["t10k"] = _fake(test, 2)
        write_idx(folder / f"t10k-images-idx3-ubyte{ext}", parts["t10k"][0])
        write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", parts["t10k"][1])
    return parts


def test_header_bytes_match_the_spec(tmp_path):
    # Hand-built golden header: magic 0x00000803, then N, H, W as big-endian uint32.
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = write_idx(tmp_path / "x", array).read_bytes()
    assert raw[:16] == bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
    assert raw[16:] == array.tobytes()
    labels = write_idx(tmp_path / "y", np.array([7, 1], dtype=np.uint8)).read_bytes()
    assert labels == bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 1])


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path, name, dtype):
    array = (np.arange(60).reshape(3, 4, 5) - 7).astype(dtype) if dtype != np.uint8 else _fake(3, 0)[0]
    out = read_idx(write_idx(tmp_path / name, array))
    assert out.dtype == np.dtype(dtype) and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_gz_is_really_compressed(tmp_path):
    path = write_idx(tmp_path / "a.gz", np.zeros((50, 10, 10), np.uint8))
    assert path.stat().st_size < 1000
    assert gzip.decompress(path.read_bytes())[:4] == b"\x00\x00\x08\x03"


def test_torch_input(tmp_path):
    t = torch.arange(12, dtype=torch.uint8).reshape(3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "t", t)), t.numpy())


def test_wrong_magic(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(5, np.uint8))  # magic 0x801, labels
    with pytest.raises(
        GenvisionError, match=r"labels: wrong IDX magic number 0x00000801, expected 0x00000803"
    ):
        read_idx_images(path)
    (tmp_path / "junk").write_bytes(b"\x12\x34\x56\x78" + bytes(10))
    with pytest.raises(GenvisionError, match="junk: not an IDX file"):
        read_idx(tmp_path / "junk")


def test_truncated_and_overlong(tmp_path):
    path = write_idx(tmp_path / "img", _fake(4, 0)[0])
    raw = path.read_bytes()
    path.write_bytes(raw[:-3])
    with pytest.raises(GenvisionError, match=r"img: truncated IDX file: header shape \(4, 6, 6\) needs 144"):
        read_idx(path)
    path.write_bytes(raw + b"\x00")
    with pytest.raises(GenvisionError, match="longer than its header"):
        read_idx(path)
    path.write_bytes(raw[:10])  # cut inside the dimension list
    with pytest.raises(GenvisionError, match="truncated IDX file"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(GenvisionError, match="truncated IDX file"):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "img.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + bytes(100))[:-10])
    with pytest.raises(GenvisionError, match="img.gz"):
        read_idx(path)


def test_count_mismatch(tmp_path):
    images, labels = _fake(5, 0)
    write_idx(tmp_path / "i", images)
    write_idx(tmp_path / "l", labels[:4])
    with pytest.raises(GenvisionError, match="4 labels but .* has 5 images"):
        read_idx_pair(tmp_path / "i", tmp_path / "l")


def test_missing_file(tmp_path):
    with pytest.raises(GenvisionError, match="nope: IDX file not found"):
        read_idx(tmp_path / "nope")


def test_write_rejects_bad_dtype(tmp_path):
    with pytest.raises(GenvisionError, match="cannot write dtype"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_splits(tmp_path, gz):
    parts = _write_mnist(tmp_path / "m", gz=gz)
    train = load_dataset("mnist", split="train", data_dir=tmp_path / "m", seed=3)
    val = load_dataset("mnist", split="val", data_dir=str(tmp_path / "m"), seed=3)
    test = load_dataset("mnist", split="test", data_dir=tmp_path / "m")
    assert (len(train), len(val), len(test)) == (36, 4, 12)  # 10% val below 50,000 images
    assert train.image_shape == (1, 6, 6) and train.images.dtype == torch.uint8 and train.num_classes == 10
    # train + val is a partition of the train files: match rows back to the originals
    images, labels = parts["train"]
    rows = {images[i].tobytes(): int(labels[i]) for i in range(len(images))}
    seen = [img[0].numpy().tobytes() for img in torch.cat([train.images, val.images])]
    assert sorted(seen) == sorted(rows)
    for ds in (train, val):
        for img, lab in zip(ds.images, ds.labels, strict=True):
            assert rows[img[0].numpy().tobytes()] == int(lab)
    np.testing.assert_array_equal(test.images[:, 0].numpy(), parts["t10k"][0])
    np.testing.assert_array_equal(test.labels.numpy(), parts["t10k"][1])
    assert test.class_names == [str(d) for d in range(10)]
    # deterministic per seed, different across seeds
    again = load_dataset("mnist", split="val", data_dir=tmp_path / "m", seed=3)
    assert torch.equal(again.images, val.images)
    other = load_dataset("mnist", split="val", data_dir=tmp_path / "m", seed=4)
    assert not torch.equal(other.images, val.images)


def test_mnist_only_t10k(tmp_path):
    _write_mnist(tmp_path / "m", train=None)
    assert len(load_dataset("mnist", split="test", data_dir=tmp_path / "m")) == 12
    for split in ("train", "val"):
        with pytest.raises(GenvisionError, match=r"train-images-idx3-ubyte\[.gz\], train-labels-idx1-ubyte"):
            load_dataset("mnist", split=split, data_dir=tmp_path / "m")
    with pytest.raises(GenvisionError, match="only 'test' available"):
        load_dataset("mnist", data_dir=tmp_path / "m")


def test_mnist_missing_one_label_file(tmp_path):
    _write_mnist(tmp_path / "m")
    (tmp_path / "m" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(GenvisionError, match=r"needs t10k-labels-idx1-ubyte\[.gz\] in"):
        load_dataset("mnist", split="test", data_dir=tmp_path / "m")


def test_mnist_missing_folder_and_no_dir(tmp_path):
    with pytest.raises(GenvisionError, match="mnist: data folder .*absent not found"):
        load_dataset("mnist", data_dir=tmp_path / "absent")
    with pytest.raises(GenvisionError, match="mnist needs data_dir"):
        load_dataset("mnist")


def test_mnist_bad_file_surfaces(tmp_path):
    _write_mnist(tmp_path / "m")
    path = tmp_path / "m" / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(GenvisionError, match="train-labels-idx1-ubyte: truncated"):
        load_dataset("mnist", data_dir=tmp_path / "m")


def test_mnist_file_rewritten_is_reread(tmp_path):
    _write_mnist(tmp_path / "m", test=12)
    first = load_dataset("mnist", split="test", data_dir=tmp_path / "m")
    write_idx(tmp_path / "m" / "t10k-images-idx3-ubyte", np.full((12, 6, 6), 9, np.uint8))
    second = load_dataset("mnist", split="test", data_dir=tmp_path / "m")
    assert not torch.equal(first.images, second.images) and int(second.images.max()) == 9


def test_fashion_mnist_from_data_dir(tmp_path):
    _write_mnist(tmp_path / "f", gz=True)
    ds = load_dataset("fashion-mnist", split="test", data_dir=tmp_path / "f", image_size=8, channels=3)
    assert ds.image_shape == (3, 8, 8) and ds.class_names[9] == "Ankle boot"


def test_fashion_mnist_default_dir_missing_is_clear():
    from genvision.data.mnist import FASHION_MNIST_DIR

    if FASHION_MNIST_DIR.is_dir():
        pytest.skip("dataset-fashion-mnist is installed here")
    with pytest.raises(GenvisionError, match="dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


def test_large_train_holds_out_5000(tmp_path):
    # 50,000 tiny 1x1 images: the fixed 5,000-image validation set kicks in.
    folder = tmp_path / "big"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", np.zeros((50_000, 1, 1), np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(50_000, np.uint8))
    assert len(load_dataset("mnist", split="val", data_dir=folder)) == 5_000
    assert struct.unpack(">I", (folder / "train-labels-idx1-ubyte").read_bytes()[4:8]) == (50_000,)
