"""A parameter group's `lr_scale` multiplies the scheduled learning rate (used to let new zero-initialised
parameters of a warm-started model learn faster, docs/scripts/pixelcnn_position_finetune.py)."""

import torch
from tiny_models import TinyClassifier

from genvision.data import load_dataset
from genvision.train.config import TrainConfig
from genvision.train.trainer import Trainer


def test_group_lr_scale_multiplies_the_schedule():
    data = load_dataset("digits", split="train")
    model = TinyClassifier()
    cfg = TrainConfig(steps=2, batch_size=8, lr=1e-3, warmup_steps=0, progress=False, val_every=0, ckpt_every=0,
                      log_every=10**9, device="cpu")
    trainer = Trainer(model, data, config=cfg)
    extra = torch.nn.Parameter(torch.zeros(3))
    trainer.optimizer.add_param_group({"params": [extra], "weight_decay": 0.0, "lr_scale": 10.0})
    trainer.train_step()
    base, *_, scaled = trainer.optimizer.param_groups
    assert scaled["lr"] == 10.0 * base["lr"] and base["lr"] == 1e-3
