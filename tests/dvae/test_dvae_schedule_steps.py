"""The dVAEs' temperature and KL warm-up run on optimiser steps, not on micro-batches (grad_accum)."""

import pytest
import torch

from genvision.data import load_dataset
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig
from genvision.dvae.token_grid import TokenDVAE, TokenDVAEConfig
from genvision.train.config import TrainConfig
from genvision.train.trainer import Trainer


@pytest.mark.parametrize("make", [
    lambda: TokenDVAE(TokenDVAEConfig(codes=8, hidden=8, embed_dim=4), (1, 8, 8)),
    lambda: MixtureDVAE(MixtureDVAEConfig(components=3, hidden=8, estimator="gumbel"), (1, 8, 8)),
], ids=["tokens", "mixture"])
def test_schedule_counts_optimizer_steps_with_grad_accum(make):
    torch.manual_seed(0)
    model = make()
    cfg = TrainConfig(steps=3, batch_size=8, grad_accum=4, progress=False, val_every=0, ckpt_every=0,
                      log_every=10, device="cpu", bf16=False)
    trainer = Trainer(model, load_dataset("digits", split="train"), config=cfg)
    trainer.fit()
    assert int(model.step) == 3  # one per optimiser step, not 12 micro-batches
    model.eval()
    model.loss({"image": torch.zeros(2, 1, 8, 8)})
    assert int(model.step) == 3  # evaluation does not advance the schedule
