import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_models import NoisyAutoencoder, TinyClassifier

from genvision.data import load_dataset
from genvision.errors import GenvisionError
from genvision.train import checkpoint as ckpt
from genvision.train.config import TrainConfig
from genvision.train.ema import EMA, ema_decay_at
from genvision.train.schedule import warmup_cosine_lr
from genvision.train.trainer import BatchStream, Trainer

HERE = Path(__file__).parent


def _cfg(**kw) -> TrainConfig:
    base = dict(steps=10, batch_size=16, lr=1e-2, warmup_steps=2, bf16=False, progress=False, val_every=0,
                ckpt_every=0, log_every=1, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", split="train"), load_dataset("digits", split="val")


def test_trainer_lowers_loss_and_logs(digits, tmp_path):
    train, val = digits
    torch.manual_seed(0)
    trainer = Trainer(TinyClassifier(), train, val_data=val, config=_cfg(steps=150, val_every=150),
                      run_dir=tmp_path)
    first = trainer.validate()["val/loss"]
    metrics = trainer.fit()
    assert metrics["val/loss"] < 0.5 * first
    assert metrics["val/accuracy"] > 0.8
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines[0]["step"] == 1 and "loss" in lines[0] and "images_per_s" in lines[0]
    assert (tmp_path / "config.json").exists()
    assert ckpt.list_checkpoints(tmp_path)[-1].name == "step_00000150.safetensors"


def test_checkpoint_round_trip(digits, tmp_path):
    train, _ = digits
    trainer = Trainer(TinyClassifier(), train, config=_cfg(steps=3), run_dir=tmp_path,
                      run_config={"model": "tiny"})
    trainer.fit()
    state = ckpt.load_checkpoint(ckpt.list_checkpoints(tmp_path)[-1])
    assert state.step == 3 and state.config == {"model": "tiny"}
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(state.model[k], v)
    for k, v in trainer.ema.model.state_dict().items():
        assert torch.equal(state.ema[k], v)
    opt = trainer.optimizer.state_dict()
    assert state.optimizer["param_groups"] == json.loads(json.dumps(opt["param_groups"]))
    for idx, s in opt["state"].items():
        for key, value in s.items():
            assert torch.equal(state.optimizer["state"][idx][key], value)


class _Kill(Exception):
    pass


def test_kill_and_resume_equals_uninterrupted_run(digits, tmp_path):
    train, _ = digits
    torch.manual_seed(1)
    init = NoisyAutoencoder()
    init_w = _weights(init)

    straight = NoisyAutoencoder()
    straight.load_state_dict(init_w)
    straight_trainer = Trainer(straight, train, config=_cfg(steps=12))
    straight_trainer.fit()

    def kill_at_7(trainer, step):
        if step == 7:
            raise _Kill

    killed = NoisyAutoencoder()
    killed.load_state_dict(init_w)
    run = tmp_path / "run"
    with pytest.raises(_Kill):
        Trainer(killed, train, config=_cfg(steps=12, ckpt_every=5), run_dir=run, callbacks=[kill_at_7]).fit()
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step_00000005.safetensors"]

    resumed = NoisyAutoencoder()  # fresh weights: everything must come from the checkpoint
    trainer = Trainer(resumed, train, config=_cfg(steps=12, ckpt_every=5), run_dir=run)
    assert trainer.resume() and trainer.step == 5
    assert trainer.ema.num_updates == 5  # the EMA's update count comes back too (it drives the warm-up decay)
    trainer.fit()
    for k, v in _weights(straight).items():
        assert torch.equal(resumed.state_dict()[k], v), k
    # ... and the EMA weights, which a resume that forgot them (or their count) would still train past
    assert trainer.ema.num_updates == straight_trainer.ema.num_updates == 12
    for k, v in straight_trainer.ema.model.state_dict().items():
        assert torch.equal(trainer.ema.model.state_dict()[k], v), k


def test_corrupt_newest_checkpoint_is_skipped_and_never_overwritten(digits, tmp_path):
    train, _ = digits
    Trainer(TinyClassifier(), train, config=_cfg(steps=4, ckpt_every=2), run_dir=tmp_path).fit()
    newest = ckpt.list_checkpoints(tmp_path)[-1]
    newest.write_bytes(newest.read_bytes()[:100])  # truncated, as by a crash of something else
    with pytest.raises(GenvisionError, match="corrupt"):
        ckpt.load_checkpoint(newest)
    warnings = []
    state = ckpt.latest_valid_checkpoint(tmp_path, warn=warnings.append)
    assert state.step == 2 and "corrupt" in warnings[0]


def test_foreign_safetensors_file_is_rejected(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(GenvisionError, match="not a genvision checkpoint"):
        ckpt.load_checkpoint(path)
    with pytest.raises(GenvisionError, match="does not exist"):
        ckpt.load_checkpoint(tmp_path / "missing.safetensors")


def test_interrupted_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.safetensors"
    ckpt.save_checkpoint(path, step=1, config={}, model={"w": torch.ones(3)})

    def crash(*a, **k):
        raise KeyboardInterrupt  # killed between writing the temp file and renaming it

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(path, step=2, config={}, model={"w": torch.zeros(3)})
    monkeypatch.undo()
    state = ckpt.load_checkpoint(path)
    assert state.step == 1 and torch.equal(state.model["w"], torch.ones(3))


def test_grad_accumulation_matches_full_batch(digits):
    train, _ = digits
    torch.manual_seed(0)
    a, b = TinyClassifier(), TinyClassifier()
    b.load_state_dict(a.state_dict())
    Trainer(a, train, config=_cfg(steps=4)).fit()
    Trainer(b, train, config=_cfg(steps=4, grad_accum=4)).fit()
    for k, v in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[k], v, rtol=1e-5, atol=1e-6)


def test_batch_stream_is_a_function_of_the_step():
    s1, s2 = BatchStream(10, global_batch=4, seed=3), BatchStream(10, global_batch=4, seed=3)
    seen = torch.cat([s1.indices(i) for i in range(5)])  # 20 positions = two full epochs
    assert sorted(seen[:10].tolist()) == list(range(10)) and sorted(seen[10:].tolist()) == list(range(10))
    assert torch.equal(s2.indices(3), s1.indices(3))


def test_one_ema_update_moves_by_one_minus_decay():
    """p_ema <- d p_ema + (1 - d) p: from 1 towards 0 at d = 0.9 (no warm-up) gives 0.9, then 0.81."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.ones_(model.weight)
    ema = EMA(model, decay=0.9, warmup=0)
    torch.nn.init.zeros_(model.weight)
    ema.update(model)
    assert ema.model.weight.item() == pytest.approx(0.9) and ema.num_updates == 1
    ema.update(model)
    assert ema.model.weight.item() == pytest.approx(0.81)


def test_lr_schedule_and_ema_warmup():
    lrs = [warmup_cosine_lr(s, base_lr=1.0, warmup_steps=10, total_steps=110, min_lr_ratio=0.1)
           for s in range(110)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[10] == pytest.approx(1.0) and lrs[60] == pytest.approx(0.55) and lrs[-1] > 0.1
    assert ema_decay_at(0, decay=0.999, warmup=10) == pytest.approx(0.1)
    assert ema_decay_at(10**6, decay=0.999, warmup=10) == 0.999
    # After 1,000 updates with warm-up, the initial weights' share is tiny (without warm-up: 0.999**1000).
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.ones_(model.weight)
    ema = EMA(model, decay=0.999, warmup=10)
    torch.nn.init.zeros_(model.weight)
    for _ in range(1000):
        ema.update(model)
    assert ema.model.weight.item() < 0.02 < 0.999 ** 1000


def test_two_process_ddp_matches_one_process(tmp_path):
    """For grad_accum 1 and 2 (one torchrun launch for both): two processes with half the batch each end with
    the weights of one process on the whole batch. The one-process reference runs in this process."""
    import ddp_worker

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    multi = tmp_path / "multi.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(HERE / "ddp_worker.py"), str(multi), "1", "2"]
    # One relaunch if the 2-process job fails to start: the gloo rendezvous on loopback failed once in ~10 suite
    # runs here (not reproducible); the weights comparison below stays exact.
    for _ in range(2):
        proc = subprocess.run(cmd, env=env, timeout=180, capture_output=True, text=True)
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, proc.stderr[-3000:]
    multi_weights = torch.load(multi, weights_only=True)
    assert sorted(multi_weights) == [1, 2]
    for grad_accum in (1, 2):
        with torch.random.fork_rng(devices=[]):
            single, info = ddp_worker.train_weights(grad_accum)
        assert not info.enabled
        for k in single:
            torch.testing.assert_close(multi_weights[grad_accum][k], single[k], rtol=1e-5, atol=1e-6)


def test_adam_betas_reach_the_optimiser(digits):
    """After one AdamW step from zero state, m = (1 - β1) g and v = (1 - β2) g², so m² / v = (1 - β1)² / (1 - β2)
    for every entry with g != 0, whatever the gradient was."""
    train, _ = digits
    torch.manual_seed(0)
    trainer = Trainer(TinyClassifier(), train, config=_cfg(steps=1, adam_beta1=0.8, adam_beta2=0.99))
    trainer.fit()
    ratios = []
    for state in trainer.optimizer.state.values():
        m, v = state["exp_avg"], state["exp_avg_sq"]
        nz = v > 1e-20
        ratios.append((m[nz] ** 2 / v[nz]).flatten())
    ratio = torch.cat(ratios)
    assert ratio.numel() > 100
    torch.testing.assert_close(ratio, torch.full_like(ratio, 0.2 ** 2 / 0.01), rtol=1e-3, atol=0)
