"""Run under torchrun (or alone): train TinyClassifier on digits and save the final weights."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from tiny_models import TinyClassifier  # noqa: E402

from genvision.data import load_dataset  # noqa: E402
from genvision.train.config import TrainConfig  # noqa: E402
from genvision.train.distributed import shutdown  # noqa: E402
from genvision.train.trainer import Trainer  # noqa: E402


def main(out: str, grad_accum: int) -> None:
    torch.manual_seed(0)
    model = TinyClassifier()
    data = load_dataset("digits", split="train")
    cfg = TrainConfig(steps=6, batch_size=16, grad_accum=grad_accum, lr=1e-2, warmup_steps=0, bf16=False,
                      progress=False, val_every=0, ckpt_every=0, log_every=1, device="cpu", ema_decay=0.5)
    trainer = Trainer(model, data, config=cfg)
    trainer.fit()
    if trainer.dist.is_main:
        torch.save({k: v.clone() for k, v in model.state_dict().items()}, out)
    shutdown(trainer.dist)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
