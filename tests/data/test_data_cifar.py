"""CIFAR-10 python batches through the restricted unpickler, on tiny fake batches written here."""

import os
import pickle

import numpy as np
import pytest
import torch

from genvision.data import load_dataset
from genvision.data.cifar import safe_unpickle
from genvision.errors import GenvisionError


def _batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"fake",
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"filenames": [f"img{i}.png".encode() for i in range(n)],
    }


def _write_cifar(folder, *, n: int = 6, protocol: int = pickle.DEFAULT_PROTOCOL, test: bool = True) -> dict:
    folder.mkdir(exist_ok=True)
    batches = {f"data_batch_{i}": _batch(n, i) for i in range(1, 6)}
    if test:
        batches["test_batch"] = _batch(n, 9)
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    names = [f"class{i}".encode() for i in range(10)]
    meta = {b"label_names": names, b"num_cases_per_batch": n, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return batches


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_round_trip(tmp_path, protocol):
    batches = _write_cifar(tmp_path / "c", protocol=protocol)
    train = load_dataset("cifar10", data_dir=tmp_path / "c", seed=1)
    val = load_dataset("cifar10", split="val", data_dir=tmp_path / "c", seed=1)
    test = load_dataset("cifar10", split="test", data_dir=tmp_path / "c")
    assert (len(train), len(val), len(test)) == (27, 3, 6)  # 30 train images, 10% held out
    assert train.image_shape == (3, 32, 32) and train.images.dtype == torch.uint8
    assert test.class_names == [f"class{i}" for i in range(10)]
    # row layout: 1024 red, then 1024 green, then 1024 blue values, each row-major 32x32
    data = batches["test_batch"][b"data"]
    assert torch.equal(test.images[2, 1, 3], torch.from_numpy(data[2, 1024 + 3 * 32 : 1024 + 4 * 32]))
    assert test.labels.tolist() == batches["test_batch"][b"labels"]
    everything = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    got = torch.cat([train.images, val.images]).reshape(-1, 3072).numpy()
    assert sorted(map(bytes, got)) == sorted(map(bytes, everything))


def test_missing_test_batch_and_folder(tmp_path):
    _write_cifar(tmp_path / "c", test=False)
    assert len(load_dataset("cifar10", data_dir=tmp_path / "c")) == 27
    with pytest.raises(GenvisionError, match="needs test_batch in"):
        load_dataset("cifar10", split="test", data_dir=tmp_path / "c")
    with pytest.raises(GenvisionError, match="cifar10: data folder .*nowhere not found"):
        load_dataset("cifar10", data_dir=tmp_path / "nowhere")


class _Mkdir:
    """Pickles as a call to os.mkdir: a harmless side effect that shows whether the call ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_forbidden_global_is_never_called(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({b"data": _Mkdir(str(marker)), b"labels": []}))
    with pytest.raises(
        GenvisionError, match=r"evil: refused or invalid pickle \(global (posix|os|nt)\.mkdir"
    ):
        safe_unpickle(path)
    assert not marker.exists()
    # and the plain pickle module would have run it: the test is able to fail
    pickle.loads(path.read_bytes())
    assert marker.exists()


def test_forbidden_builtin_and_object_dtype(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps(eval))
    with pytest.raises(GenvisionError, match="builtins.eval is not allowed"):
        safe_unpickle(path)
    path.write_bytes(pickle.dumps(np.array([1, "a"], dtype=object)))
    with pytest.raises(GenvisionError, match="refused or invalid pickle"):
        safe_unpickle(path)


def test_batch_in_place_is_refused_through_load(tmp_path):
    _write_cifar(tmp_path / "c")
    (tmp_path / "c" / "data_batch_3").write_bytes(pickle.dumps({b"data": _Mkdir(str(tmp_path / "x"))}))
    with pytest.raises(GenvisionError, match="data_batch_3: refused"):
        load_dataset("cifar10", data_dir=tmp_path / "c")
    assert not (tmp_path / "x").exists()


def test_bad_batch_contents(tmp_path):
    _write_cifar(tmp_path / "c")
    bad = {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    (tmp_path / "c" / "test_batch").write_bytes(pickle.dumps(bad))
    with pytest.raises(GenvisionError, match=r"test_batch: b'data' must be a uint8 array \(N, 3072\)"):
        load_dataset("cifar10", split="test", data_dir=tmp_path / "c")
    bad = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}
    (tmp_path / "c" / "test_batch").write_bytes(pickle.dumps(bad))
    with pytest.raises(GenvisionError, match="test_batch: 2 images but labels"):
        load_dataset("cifar10", split="test", data_dir=tmp_path / "c")
    (tmp_path / "c" / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(GenvisionError, match="test_batch"):
        load_dataset("cifar10", split="test", data_dir=tmp_path / "c")


def test_numpy1_style_pickle_loads(tmp_path):
    # Files written by numpy 1.x (as the real CIFAR batches) name numpy.core.multiarray._reconstruct.
    array = np.arange(3072, dtype=np.uint8).reshape(1, 3072)
    raw = pickle.dumps({b"data": array, b"labels": [4]}, protocol=2)
    assert b"numpy._core.multiarray" in raw
    path = tmp_path / "old"
    path.write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    out = safe_unpickle(path)
    np.testing.assert_array_equal(out[b"data"], array)
