"""Warm-start the position-aware PixelCNN from the position-blind one and fine-tune it (issue 17).

The shipped pixelcnn-mnist of the earlier release had no position bias. Its weights are loaded into the same
network with `position_bias=True` (the new row/column biases start at zero, so step 0 is exactly the old model)
and all parameters are fine-tuned for a few hundred steps with the `mnist` preset's data, batch and label
dropout. This is how the re-shipped weights were made on a 2-core CPU shared with other jobs; training the
preset from scratch (`make pretrained-pixelcnn-mnist`, ~28 min quiet) is the reproducible recipe.

    python docs/scripts/pixelcnn_position_finetune.py --from=OLD.safetensors --out=runs/pixelcnn-mnist-pos \
        [--steps=400] [--lr=3e-4]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from genvision.data import load_dataset
from genvision.loading import load_model
from genvision.models import get_entry, make_run_spec, run_config_dict
from genvision.train.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True, help="position-blind checkpoint or run")
    parser.add_argument("--out", required=True, help="new run folder")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--position-lr-scale", type=float, default=10.0,
                        help="the new zero-initialised biases learn this many times faster (Adam moves a "
                             "parameter by about lr per step: at 3e-4 they would stay near zero)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    old, _ = load_model(args.source)
    overrides = {"position_bias": "true", "steps": str(args.steps), "lr": str(args.lr), "warmup_steps": "50",
                 "ckpt_every": "100", "val_every": "200", "sample_every": str(args.steps), "log_every": "20",
                 "batch_size": str(args.batch_size)}
    spec = make_run_spec("pixelcnn", preset="mnist", overrides=overrides)
    train_data = load_dataset(spec.data.data, split="train")
    val_data = load_dataset(spec.data.data, split="val")
    model = get_entry("pixelcnn").make(spec.model_config, train_data.image_shape, train_data.num_classes,
                                       data=spec.data)
    missing, unexpected = model.load_state_dict(old.state_dict(), strict=False)
    assert not unexpected and all(k.endswith(("row_bias", "col_bias")) for k in missing), (missing, unexpected)
    print(f"warm start: {len(missing)} new position-bias tensors, everything else from {args.source}")
    config = run_config_dict(spec, image_shape=train_data.image_shape, num_classes=train_data.num_classes)
    config["warm_start"] = {"from": str(args.source), "note": __doc__.splitlines()[0]}
    trainer = Trainer(model, train_data, config=spec.train, val_data=val_data, run_dir=Path(args.out),
                      run_config=config, batch_transform=spec.data.batch_transform())
    position = [p for n, p in model.named_parameters() if n.endswith(("row_bias", "col_bias"))]
    ids = {id(p) for p in position}
    for group in trainer.optimizer.param_groups:
        group["params"] = [p for p in group["params"] if id(p) not in ids]
    trainer.optimizer.add_param_group({"params": position, "weight_decay": 0.0, "lr_scale": args.position_lr_scale})
    t0 = time.time()
    metrics = trainer.fit()
    print(f"done in {time.time() - t0:.0f}s; " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))


if __name__ == "__main__":
    torch.set_num_threads(int(torch.get_num_threads()))
    main()
