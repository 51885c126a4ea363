"""Checkpoint format 2: content hash, family, finite weights, pruning, orphans, fallback to the newest valid."""

import json
import os

import pytest
import torch
from ckpt_fixtures import tiny_run_config, write_tiny_run
from safetensors import safe_open
from safetensors.torch import save_file

from genvision.errors import GenvisionError
from genvision.loading import load_model
from genvision.train import checkpoint as ckpt
from genvision.train.integrity import content_hash, match_state_dict


def _flip(path, byte: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[byte] ^= 1 << bit
    path.write_bytes(bytes(data))


def test_hash_is_written_and_a_flipped_weight_bit_is_reported(tmp_path):
    path = ckpt.save_checkpoint(tmp_path / "c.safetensors", step=1, config={"model": "x"},
                                model={"w": torch.arange(4.0)})
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        assert meta["family"] == "x" and meta["version"] == "2"
        assert meta["sha256"] == content_hash({"model/w": f.get_tensor("model/w")}, meta)
    _flip(path, path.stat().st_size - 1, bit=3)  # the last byte is weight data
    with pytest.raises(GenvisionError, match="does not match its SHA-256"):
        ckpt.load_checkpoint(path)


def test_hash_covers_the_metadata(tmp_path):
    path = ckpt.save_checkpoint(tmp_path / "c.safetensors", step=12, config={"model": "x"},
                                model={"w": torch.ones(2)})
    data = path.read_bytes()
    i = data.index(b'"step":"12"') + len(b'"step":"1')
    path.write_bytes(data[:i] + b"3" + data[i + 1:])  # step 12 -> 13, the JSON stays valid
    with pytest.raises(GenvisionError, match="SHA-256"):
        ckpt.load_checkpoint(path)


def test_legacy_format_loads_with_a_warning(tmp_path):
    path = tmp_path / "old.safetensors"
    save_file({"model/w": torch.ones(2)}, str(path), metadata={
        "format": ckpt.FORMAT, "version": "1", "step": "3", "config": "{}", "optimizer": "null", "extra": "{}"})
    warnings = []
    state = ckpt.load_checkpoint(path, warn=warnings.append)
    assert state.step == 3 and len(warnings) == 1 and "without a content hash" in warnings[0]


def test_non_finite_weights_are_refused_at_save(tmp_path):
    path = tmp_path / "c.safetensors"
    with pytest.raises(ckpt.NonFiniteWeights, match="'model/b' holds NaN or inf"):
        ckpt.save_checkpoint(path, step=5, config={},
                             model={"a": torch.ones(2), "b": torch.tensor([1.0, float("nan")])})
    with pytest.raises(ckpt.NonFiniteWeights, match="'ema/a'"):
        ckpt.save_checkpoint(path, step=5, config={}, model={"a": torch.ones(1)},
                             ema={"a": torch.tensor([float("inf")])})
    assert not path.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("log_every, message", [(100, "training diverged at step 4: .*holds NaN.*step_00000002"),
                                                 (1, "training diverged at step 4: the loss is nan.*step_00000002")])
def test_diverging_run_stops_and_keeps_its_last_good_checkpoint(tmp_path, log_every, message):
    from tiny_models import TinyClassifier

    from genvision.data import load_dataset
    from genvision.train.config import TrainConfig
    from genvision.train.trainer import Trainer

    def poison(trainer, step):
        if step == 3:
            with torch.no_grad():
                trainer.model.net[1].weight[0, 0] = float("nan")

    cfg = TrainConfig(steps=6, batch_size=16, bf16=False, progress=False, val_every=0, ckpt_every=2,
                      log_every=log_every, device="cpu", keep_checkpoints=1)
    trainer = Trainer(TinyClassifier(), load_dataset("digits", split="train"), config=cfg, run_dir=tmp_path,
                      callbacks=[poison])
    with pytest.raises(GenvisionError, match=message):
        trainer.fit()
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step_00000002.safetensors"]
    assert ckpt.load_checkpoint(ckpt.list_checkpoints(tmp_path)[0]).step == 2


def test_prune_keeps_exactly_the_newest_n(tmp_path):
    write_tiny_run(tmp_path, steps=(1, 2, 3, 4, 5))
    deleted = ckpt.prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step_00000004.safetensors",
                                                                 "step_00000005.safetensors"]
    assert [p.name for p in deleted] == [f"step_0000000{i}.safetensors" for i in (1, 2, 3)]
    assert ckpt.prune_checkpoints(tmp_path, keep=0) == [] and len(ckpt.list_checkpoints(tmp_path)) == 2


def test_prune_never_deletes_the_newest_valid_checkpoint(tmp_path):
    paths = write_tiny_run(tmp_path, steps=(1, 2, 3, 4))
    for p in paths[2:]:
        p.write_bytes(p.read_bytes()[:-7])  # steps 3 and 4 truncated
    ckpt.prune_checkpoints(tmp_path, keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == [p.name for p in paths[1:]]


def test_run_folder_falls_back_to_newest_valid_with_a_named_warning(tmp_path, capsys):
    paths = write_tiny_run(tmp_path, steps=(1, 2, 3))
    _flip(paths[2], paths[2].stat().st_size // 2)
    path, state = ckpt.load_target(tmp_path)
    assert path == paths[1] and state.step == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: skipping") and "step_00000003" in err[0]
    model, _ = load_model(tmp_path)  # sample/eval go through the same loader
    assert "step_00000003" in capsys.readouterr().err
    with pytest.raises(GenvisionError, match="does not match its SHA-256"):
        load_model(paths[2])  # a file named explicitly: no fallback


def test_run_folder_with_no_valid_checkpoint_is_an_error(tmp_path):
    for p in write_tiny_run(tmp_path, steps=(1, 2)):
        p.write_bytes(b"garbage")
    with pytest.raises(GenvisionError, match="no valid checkpoint"):
        load_model(tmp_path)


def test_checkpoint_of_another_family_in_a_run_is_an_error(tmp_path):
    write_tiny_run(tmp_path, steps=(1,))
    other = tiny_run_config("ddpm")
    ckpt.save_checkpoint(ckpt.checkpoint_path(tmp_path, 2), step=2, config=other, model={"w": torch.ones(1)})
    with pytest.raises(GenvisionError, match="'ddpm' checkpoint but .* is a 'pixelcnn' run"):
        load_model(tmp_path)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.pop("image_shape"), "missing key 'image_shape'"),
    (lambda c: c.pop("model"), "missing key 'model'"),
    (lambda c: c.update(num_classes="10"), "key 'num_classes' must be a JSON int"),
    (lambda c: c.update(image_shape=[1, 8]), "key 'image_shape' must be"),
    (lambda c: c["model_config"].update(hidden="8"), "key 'hidden' must be int, got '8'"),
    (lambda c: c["model_config"].update(hidden=True), "key 'hidden' must be int, got True"),
    (lambda c: c["model_config"].update(arch="lstm"), "key 'arch' must be"),
    (lambda c: c["model_config"].update(bogus=1), "unknown keys \\['bogus'\\]"),
    (lambda c: c.update(model_config=[1]), "key 'model_config' must be a JSON dict"),
])
def test_embedded_config_errors_name_the_key(tmp_path, edit, message):
    config = tiny_run_config()
    edit(config)
    path = ckpt.save_checkpoint(tmp_path / "c.safetensors", step=1, config=config, model={"w": torch.ones(1)})
    with pytest.raises(GenvisionError, match=message):
        load_model(path)


def test_weights_must_fit_the_model_by_key_shape_and_dtype():
    ref = {"a": torch.zeros(2, 3), "n": torch.zeros((), dtype=torch.long)}
    ok = match_state_dict({"a": torch.ones(2, 3, dtype=torch.float16), "n": torch.tensor(4)}, ref, where="f")
    assert ok["a"].dtype == torch.float32 and ok["n"].item() == 4
    with pytest.raises(GenvisionError, match="'a' has shape \\(3, 2\\), the model expects \\(2, 3\\)"):
        match_state_dict({"a": torch.ones(3, 2), "n": torch.tensor(4)}, ref, where="f")
    with pytest.raises(GenvisionError, match="'a' has dtype torch.int64"):
        match_state_dict({"a": torch.ones(2, 3, dtype=torch.long), "n": torch.tensor(4)}, ref, where="f")
    with pytest.raises(GenvisionError, match="'n' of the model is missing"):
        match_state_dict({"a": torch.ones(2, 3)}, ref, where="f")
    with pytest.raises(GenvisionError, match="'x' does not belong"):
        match_state_dict({"a": torch.ones(2, 3), "n": torch.tensor(4), "x": torch.ones(1)}, ref, where="f")


def test_orphans_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / "checkpoints").mkdir()
    orphan = tmp_path / "checkpoints" / f".step_00000002.safetensors.tmp{dead_pid}"
    orphan_json = tmp_path / f".config.json.tmp{dead_pid}"
    live = tmp_path / "checkpoints" / f".step_00000003.safetensors.tmp{os.getppid()}"
    for p in (orphan, orphan_json, live):
        p.write_bytes(b"partial")
    assert sorted(ckpt.clean_orphans(tmp_path)) == sorted([orphan, orphan_json])
    assert live.exists() and not orphan.exists()


def test_shipped_weights_carry_their_hash_and_a_changed_file_is_refused(tmp_path, monkeypatch):
    from genvision import pretrained

    for name in pretrained.shipped():
        assert len(pretrained.info(name)["weights_sha256"]) == 64, name
    name = pretrained.shipped()[0]
    copy = tmp_path / f"{name}.safetensors"
    copy.write_bytes(pretrained.weights_path(name).read_bytes())
    (tmp_path / f"{name}.json").write_text(pretrained.info_path(name).read_text())
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    assert pretrained.resolve(f"pretrained:{name}") == copy
    info = json.loads((tmp_path / f"{name}.json").read_text())
    info["weights_sha256"] = "0" * 64
    (tmp_path / f"{name}.json").write_text(json.dumps(info))
    with pytest.raises(GenvisionError, match="does not match the SHA-256 recorded"):
        pretrained.resolve(f"pretrained:{name}")
