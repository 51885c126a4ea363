"""genvision's command line: a thin layer over the library.

  genvision train MODEL [--preset=P] [--name=RUN] [--resume] [--key=value ...]
  genvision sample RUN|CHECKPOINT --n N [--label K] --out FILE.png|FILE.npz [--seed S] [--option=value ...]
  genvision eval RUN|samples.npz [--metrics=...] [--data=...] [--split=val] [--n=N]
  genvision data [NAME]
  genvision models [--markdown]   (registered models; shipped pretrained:NAME models with their figures)
  genvision guidance-sweep RUN [--weights=0,1,2,4] [--classifier=NOISY_RUN --scales=0,1,2,4]
  genvision complete RUN [--rows=14] [--images=8] [--samples=4] [--out=FILE.png]
  genvision patch-vq IMAGE_OR_DATASET [--k=64] [--patch=4] [--out=DIR]
  genvision report [RUN|pretrained:NAME ...] [--out=report/] [--n=16] [--seed=0] [--steps=10] [--measure]
  genvision lab [--port 7860] [--host 127.0.0.1] [--threads 1] [RUN|pretrained:NAME ...]   (web lab; needs .[lab])
  genvision demo      (the main job: a small CFG model on mnist5k and its figures)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from genvision.errors import GenvisionError

USAGE = __doc__


def _pop(opts: dict[str, str], key: str, default=None):
    return opts.pop(key, default)


def cmd_train(model_name: str, args: list[str]) -> int:
    from genvision.config import parse_key_values
    from genvision.data import load_dataset
    from genvision.models import get_entry, make_run_spec, run_config_dict
    from genvision.train.trainer import Trainer

    opts = parse_key_values(args)
    preset = _pop(opts, "preset")
    name = _pop(opts, "name")
    runs_dir = Path(_pop(opts, "runs_dir", "runs"))
    resume = _pop(opts, "resume", None)
    resume = resume is not None and resume.lower() not in ("0", "false", "no")
    spec = make_run_spec(model_name, preset=preset, overrides=opts)
    entry = get_entry(model_name)
    d = spec.data
    kw = dict(data_dir=d.data_dir or None, seed=0, image_size=d.image_size or None, channels=d.channels or None)
    train_data = load_dataset(d.data, split="train", **kw)
    val_data = load_dataset(d.data, split="val", **kw)
    model = entry.build(spec.model_config, train_data.image_shape, train_data.num_classes)
    run_dir = runs_dir / (name or f"{model_name}-{d.data}")
    if run_dir.exists() and any(run_dir.glob("checkpoints/*.safetensors")) and not resume:
        raise GenvisionError(f"run folder {run_dir} already has checkpoints: pass --resume to continue it, "
                             "or --name=NEW for a new run")
    config = run_config_dict(spec, image_shape=train_data.image_shape, num_classes=train_data.num_classes)
    trainer = Trainer(model, train_data, config=spec.train, val_data=val_data, run_dir=run_dir,
                      run_config=config, batch_transform=spec.data.batch_transform())
    if resume:
        trainer.resume()
    n_params = sum(p.numel() for p in model.parameters())
    if trainer.dist.is_main:
        print(f"training {model_name} (preset {spec.preset or '-'}, {n_params / 1e6:.2f}M params) on {d.data} "
              f"({len(train_data)} train / {len(val_data)} val) for {spec.train.steps} steps on {trainer.device}"
              f" -> {run_dir}")
    t0 = time.time()
    metrics = trainer.fit()
    if trainer.dist.is_main:
        print(f"done in {time.time() - t0:.0f}s; " + ", ".join(
            f"{k}={v:.4g}" for k, v in metrics.items() if k.startswith("val/") or k == "loss"))
    from genvision.train.distributed import shutdown

    shutdown(trainer.dist)
    return 0


def cmd_sample(target: str, args: list[str]) -> int:
    import torch

    from genvision.config import apply_overrides, parse_key_values
    from genvision.models import get_entry, load_model
    from genvision.viz.grid import save_grid, save_images_npz

    opts = parse_key_values(args)
    n = int(_pop(opts, "n", "16"))
    out = _pop(opts, "out")
    if out is None:
        raise GenvisionError("sample needs --out FILE.png or FILE.npz")
    seed = int(_pop(opts, "seed", "0"))
    label = _pop(opts, "label")
    device = _pop(opts, "device", "cpu")
    model, config = load_model(target, device=device)
    entry = get_entry(config["model"])
    options = apply_overrides({"sample": entry.sample_options()}, opts)["sample"]
    num_classes = int(getattr(model, "num_classes", 0) or 0)
    labels = None
    if label is not None:
        try:
            k = int(label)
        except ValueError:
            raise GenvisionError(f"--label must be an integer, got {label!r}") from None
        if num_classes > 0 and not 0 <= k < num_classes:
            raise GenvisionError(f"--label {k} is out of range: the model has classes 0..{num_classes - 1}")
        labels = torch.full((n,), k, dtype=torch.long, device=device)
    elif num_classes > 0:
        labels = torch.arange(n, device=device) % num_classes
    if not hasattr(model, "sample"):
        raise GenvisionError(f"model {config['model']!r} does not generate images")
    gen = torch.Generator(device=device).manual_seed(seed)
    import dataclasses

    with torch.no_grad():
        images = model.sample(n, labels=labels, generator=gen, **dataclasses.asdict(options))
    if out.endswith(".npz"):
        path = save_images_npz(images, out, labels=labels if label is not None else None)
    elif out.lower().endswith(".png"):
        nrow = num_classes if (labels is not None and label is None) else int(max(1, round(n ** 0.5)))
        path = save_grid(images, out, nrow=nrow)
    else:
        raise GenvisionError(f"--out must end in .png or .npz, got {out!r}")
    print(f"wrote {n} samples to {path}")
    return 0


def cmd_data(args: list[str]) -> int:
    from genvision.config import parse_key_values
    from genvision.data import describe_dataset, list_datasets

    if not args:
        print(list_datasets())
        return 0
    opts = parse_key_values(args[1:])
    print(describe_dataset(args[0], data_dir=opts.get("data_dir") or None))
    return 0


def cmd_models(args: list[str] | None = None) -> int:
    from genvision import pretrained
    from genvision.models import registry

    if args and args != ["--markdown"]:
        raise GenvisionError("usage: genvision models [--markdown]")
    if args:
        print(pretrained.markdown_table())
        return 0

    print("Models (genvision train MODEL [--preset=P]):")
    for name, entry in registry().items():
        presets = ", ".join(entry.presets) or "-"
        print(f"  {name:18s} {entry.description} [presets: {presets}]")
    names = pretrained.shipped()
    print("\nShipped pretrained models (use pretrained:NAME wherever a run folder goes):" if names else
          "\nNo pretrained models are shipped in this installation (make pretrained builds them).")
    for name in names:
        info = pretrained.info(name)
        print(f"  {name:24s} {info['parameters'] / 1e6:5.2f}M params, {info['weights_bytes'] / 1e6:4.1f} MB, "
              f"{info['description']}")
        print(f"  {'':24s} {pretrained.headline(info['metrics'])}")
    return 0


def cmd_eval(target: str, args: list[str]) -> int:
    from genvision.eval.cli import run_eval

    return run_eval(target, args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    cmd, rest = argv[0], argv[1:]
    try:
        if cmd == "train" and rest:
            return cmd_train(rest[0], rest[1:])
        if cmd == "sample" and rest:
            return cmd_sample(rest[0], rest[1:])
        if cmd == "eval" and rest:
            return cmd_eval(rest[0], rest[1:])
        if cmd == "data":
            return cmd_data(rest)
        if cmd == "models":
            return cmd_models(rest)
        from genvision.commands import extra_commands

        extra = extra_commands()
        if cmd in extra:
            return extra[cmd](rest)
        raise GenvisionError(f"unknown command {' '.join(argv[:2])!r}; see `genvision --help`")
    except GenvisionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
