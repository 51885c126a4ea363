"""Run under torchrun (or import it): train TinyClassifier on digits for each grad_accum and save the final
weights. One launch covers every grad_accum (each process start costs a torch import, ~2-5 s here)."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from tiny_models import TinyClassifier  # noqa: E402

from genvision.data import load_dataset  # noqa: E402
from genvision.train.config import TrainConfig  # noqa: E402
from genvision.train.distributed import DistInfo, shutdown  # noqa: E402
from genvision.train.trainer import Trainer  # noqa: E402


def train_weights(grad_accum: int) -> tuple[dict[str, torch.Tensor], DistInfo]:
    """The final weights of 6 steps (batch 16 over every process), and the process's place in the group."""
    torch.manual_seed(0)
    model = TinyClassifier()
    data = load_dataset("digits", split="train")
    cfg = TrainConfig(steps=6, batch_size=16, grad_accum=grad_accum, lr=1e-2, warmup_steps=0, bf16=False,
                      progress=False, val_every=0, ckpt_every=0, log_every=1, device="cpu", ema_decay=0.5)
    trainer = Trainer(model, data, config=cfg)
    trainer.fit()
    return {k: v.clone() for k, v in model.state_dict().items()}, trainer.dist


def main(out: str, grad_accums: list[int]) -> None:
    results, info = {}, None
    for grad_accum in grad_accums:
        results[grad_accum], info = train_weights(grad_accum)
    if info.is_main:
        torch.save(results, out)
    shutdown(info)


if __name__ == "__main__":
    main(sys.argv[1], [int(a) for a in sys.argv[2:]])
