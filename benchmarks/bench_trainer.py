"""Trainer overhead per step vs a bare PyTorch loop on the same model and batches; data loading images/s.

    python benchmarks/bench_trainer.py [--steps 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.data import load_dataset  # noqa: E402
from genvision.data.dataset import to_float  # noqa: E402
from genvision.models import get_entry, make_run_spec  # noqa: E402
from genvision.train.config import TrainConfig  # noqa: E402
from genvision.train.ema import EMA  # noqa: E402
from genvision.train.trainer import BatchStream, Trainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--model", default="ddpm")
    ap.add_argument("--preset", default="mnist")
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    data = load_dataset("mnist5k", split="train")
    spec = make_run_spec(args.model, preset=args.preset)
    build = get_entry(args.model).make
    torch.manual_seed(0)
    rows = []
    for bf16 in (False, True):
        cfg = TrainConfig(steps=10**9, batch_size=args.batch, bf16=bf16, progress=False, val_every=0,
                          ckpt_every=0, log_every=50, device="cpu", warmup_steps=10)
        trainer = Trainer(build(spec.model_config, data.image_shape, data.num_classes), data, config=cfg)
        bare_model = build(spec.model_config, data.image_shape, data.num_classes)
        opt = torch.optim.AdamW(bare_model.parameters(), lr=1e-3)
        ema = EMA(bare_model, decay=0.999)
        stream = BatchStream(len(data), global_batch=args.batch, seed=0)
        state = {"i": 0}

        def bare(with_ema: bool) -> None:
            for _ in range(args.steps):
                idx = stream.indices(state["i"])
                state["i"] += 1
                batch = {"image": to_float(data.images[idx]), "label": data.labels[idx]}
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    loss = bare_model.loss(batch)["loss"]
                loss.backward()
                torch.nn.utils.clip_grad_norm_(bare_model.parameters(), 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                if with_ema:
                    ema.update(bare_model)

        def run_trainer() -> None:
            for _ in range(args.steps):
                trainer.train_step()

        t = interleaved({"bare": lambda: bare(False), "bare+ema": lambda: bare(True), "trainer": run_trainer},
                        rounds=3)
        per = {k: v / args.steps for k, v in t.items()}
        rows.append({"precision": "bf16" if bf16 else "fp32", "bare_ms": 1e3 * per["bare"],
                     "bare+ema_ms": 1e3 * per["bare+ema"], "trainer_ms": 1e3 * per["trainer"],
                     "overhead_vs_bare+ema_%": 100 * (per["trainer"] / per["bare+ema"] - 1),
                     "ema_cost_%": 100 * (per["bare+ema"] / per["bare"] - 1),
                     "trainer_img_s": args.batch / per["trainer"]})
    print_table(f"trainer vs bare loop ({args.model}/{args.preset}, batch {args.batch}, "
                f"{torch.get_num_threads()} threads)", rows)

    stream = BatchStream(len(data), global_batch=256, seed=0)
    t0 = time.perf_counter()
    n = 0
    for i in range(200):
        x = to_float(data.images[stream.indices(i)])
        n += x.shape[0]
    print_table("data loading", [{"images_per_s": n / (time.perf_counter() - t0)}])


if __name__ == "__main__":
    main()
