"""SIGKILL a process while it writes checkpoints: no checkpoint is lost or half-written, and the orphaned
temporary file is removed when a run next starts in that folder."""

import os
import random
import signal
import subprocess
import sys
import time

from tiny_models import TinyClassifier

from genvision.data import load_dataset
from genvision.train import checkpoint as ckpt
from genvision.train.config import TrainConfig
from genvision.train.trainer import Trainer

WRITER = r"""
import os, sys, time, torch
from genvision.train import checkpoint as ckpt
run, hang_at = sys.argv[1], int(sys.argv[2])
real_fsync, step = os.fsync, 0
def fsync(fd):  # with hang_at = S: write step S's temp file completely, then wait to be killed before the rename
    if step == hang_at:
        print("hanging", flush=True)
        time.sleep(120)
    real_fsync(fd)
os.fsync = fsync
weights = {"w": torch.randn(1_000_000)}  # 4 MB: a write takes long enough to be hit by a random kill
for step in range(1, 10_000):
    ckpt.save_checkpoint(ckpt.checkpoint_path(run, step), step=step, config={"model": "x"}, model=weights)
    print("saved", step, flush=True)
"""


def _writer(run, hang_at: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", WRITER, str(run), str(hang_at)], stdout=subprocess.PIPE, text=True,
                            env=env)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def _tmp_files(run):
    return sorted(p.name for p in (run / "checkpoints").iterdir() if p.name.startswith("."))


def _all_valid(run) -> list[int]:
    return [ckpt.load_checkpoint(p).step for p in ckpt.list_checkpoints(run)]


def test_kill_between_write_and_rename_leaves_an_orphan_the_next_run_removes(tmp_path):
    run = tmp_path / "run"
    proc = _writer(run, hang_at=3)
    assert [proc.stdout.readline().strip() for _ in range(3)] == ["saved 1", "saved 2", "hanging"]
    _kill(proc)
    assert _all_valid(run) == [1, 2]
    assert _tmp_files(run) == [f".step_00000003.safetensors.tmp{proc.pid}"]
    cfg = TrainConfig(steps=1, batch_size=16, bf16=False, progress=False, ckpt_every=0, device="cpu")
    Trainer(TinyClassifier(), load_dataset("digits", split="train"), config=cfg, run_dir=run).fit()  # next start
    assert _tmp_files(run) == []


def test_random_kills_mid_write_lose_no_checkpoint(tmp_path):
    rng = random.Random(0)
    run = tmp_path / "run"
    seen_orphan = 0
    for _ in range(2):  # each start costs a torch import (~2 s); the deterministic test above covers the orphan
        proc = _writer(run, hang_at=-1)
        assert proc.stdout.readline().startswith("saved")
        time.sleep(rng.uniform(0.0, 0.3))
        _kill(proc)
        steps = _all_valid(run)  # every step file that exists loads and verifies
        assert steps and steps == sorted(steps)
        seen_orphan += len(ckpt.clean_orphans(run))
        assert _tmp_files(run) == []
        for p in ckpt.list_checkpoints(run):
            p.unlink()
    print(f"orphans removed after 2 random kills: {seen_orphan}")
