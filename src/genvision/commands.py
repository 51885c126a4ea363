"""Commands beyond train/sample/eval/data/models: guidance-sweep, demo, complete, patch-vq and report."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from genvision.errors import GenvisionError


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenvisionError(f"--{name} must be comma-separated numbers, got {text!r}") from None


def cmd_guidance_sweep(args: list[str]) -> int:
    """genvision guidance-sweep RUN [--weights=0,0.5,1,2,4] [--classifier=NOISY_RUN --scales=0,1,2,4]
    [--n-per-class=50] [--steps=50] [--out=DIR] [--eval-classifier=RUN]"""
    import torch

    from genvision.config import parse_key_values
    from genvision.diffusion.sweep import class_by_weight_grid, guidance_sweep, write_sweep
    from genvision.eval.table import format_table
    from genvision.models import load_model

    if not args or args[0].startswith("--"):
        raise GenvisionError("usage: genvision guidance-sweep RUN [--weights=0,1,2] [--classifier=RUN --scales=0,1]")
    target, opts = args[0], parse_key_values(args[1:])
    device = opts.pop("device", "cpu")
    model, config = load_model(target, device=device)
    data = config["data"]["data"]
    n_per_class = int(opts.pop("n_per_class", "50"))
    steps = int(opts.pop("steps", "50"))
    seed = int(opts.pop("seed", "0"))
    eval_clf = opts.pop("eval_classifier", None)
    num_classes = int(config["num_classes"])
    out = Path(opts.pop("out", str(Path(target) / "guidance" if Path(target).is_dir() else
                                   Path(target).parent / "guidance")))
    sweeps = []
    if "classifier" in opts:
        noisy = opts.pop("classifier")
        scales = _floats(opts.pop("scales", "0,1,2,4,8"), "scales")
        noisy_model, _ = load_model(noisy, device=device)
        sweeps.append(("classifier_guidance", "classifier_scale", scales, {"classifier": noisy_model}, "s={}"))
    weights = opts.pop("weights", None)
    if weights is not None or not sweeps:
        if not getattr(model, "num_classes", 0):
            raise GenvisionError(f"{target} is not class-conditional: CFG needs a cfg run (or pass --classifier)")
        sweeps.append(("cfg", "guidance_weight", _floats(weights or "0,0.5,1,2,4", "weights"), {}, "w={}"))
    if opts:
        raise GenvisionError(f"unknown options: {', '.join('--' + k for k in opts)}")
    for name, option, values, extra, fmt in sweeps:
        t0 = time.time()
        with torch.no_grad():
            rows = guidance_sweep(model, values=values, option=option, n_per_class=n_per_class,
                                  num_classes=num_classes, data=data, classifier_path=eval_clf, seed=seed,
                                  steps=steps, **extra)
        table, plot = write_sweep(rows, out, name, option)
        grid = class_by_weight_grid(model, out / f"{name}_grid.png", values=values, option=option,
                                    num_classes=num_classes, seed=seed, steps=steps, label_fmt=fmt, **extra)
        print(format_table(rows))
        print(f"{name}: {len(values)} values x {n_per_class * num_classes} samples in {time.time() - t0:.0f}s")
        print(f"table {table}\nplot {plot}\ngrid {grid}")
    return 0


def cmd_demo(args: list[str]) -> int:
    """The main job on the embedded data: train the small CFG model on mnist5k, then write the class x lambda
    grid, a denoising filmstrip and a sample grid."""
    import torch

    from genvision.cli import cmd_train
    from genvision.diffusion.filmstrip import denoising_filmstrip
    from genvision.diffusion.sweep import class_by_weight_grid
    from genvision.models import load_model

    run = Path("runs/demo-cfg")
    t0 = time.time()
    if not any(run.glob("checkpoints/*.safetensors")):
        cmd_train("cfg", ["--preset=demo", "--name=demo-cfg", *args])
    model, _ = load_model(run)
    lambdas = [0.0, 0.25, 0.5, 0.75, 1.0]
    with torch.no_grad():
        grid = class_by_weight_grid(model, run / "class_x_lambda.png", values=lambdas, option="guidance_lambda",
                                    num_classes=model.num_classes, steps=50, label_fmt="l={}")
        strong = class_by_weight_grid(model, run / "class_x_weight.png", values=[0.0, 1.0, 2.0, 4.0],
                                      option="guidance_weight", num_classes=model.num_classes, steps=50,
                                      label_fmt="w={}")
        film = denoising_filmstrip(model, run / "filmstrip.png", n=10, labels=torch.arange(10),
                                   guidance_weight=1.0)
    print(f"demo done in {time.time() - t0:.0f}s")
    print(f"class x lambda grid (lambda=0: unconditional, 1: conditional): {grid}")
    print(f"class x CFG weight grid: {strong}")
    print(f"denoising filmstrip: {film}")
    return 0


def cmd_complete(args: list[str]) -> int:
    """genvision complete RUN [--rows=14] [--images=8] [--samples=4] [--seed=0] [--out=FILE.png]
    Image completion (PixelRNN Fig. 1): keep the top rows of held-out images, sample the rest. Each row of
    the grid: the occluded input, the completions, the original."""
    import torch

    from genvision.config import parse_key_values
    from genvision.eval.cli import eval_images
    from genvision.models import load_model
    from genvision.viz.grid import save_grid

    if not args or args[0].startswith("--"):
        raise GenvisionError("usage: genvision complete RUN [--rows=14] [--images=8] [--samples=4] [--out=F.png]")
    target, opts = args[0], parse_key_values(args[1:])
    model, config = load_model(target, device=opts.pop("device", "cpu"))
    if not hasattr(model, "complete"):
        raise GenvisionError(f"model {config['model']!r} cannot complete images")
    rows, n_img = int(opts.pop("rows", "14")), int(opts.pop("images", "8"))
    n_samples, seed = int(opts.pop("samples", "4")), int(opts.pop("seed", "0"))
    out = Path(opts.pop("out", str(Path(target) / "completion.png" if Path(target).is_dir() else "completion.png")))
    if opts:
        raise GenvisionError(f"unknown options: {', '.join('--' + k for k in opts)}")
    from genvision.data import load_dataset

    x = eval_images(config, data=config["data"]["data"], split="val", n=10**9, data_dir=None)
    labels_all = load_dataset(config["data"]["data"], split="val").labels
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n_img]
    x, labels = x[pick], (labels_all[pick] if getattr(model, "num_classes", 0) else None)
    from genvision.autoregressive.completion import completion_grid

    grid = completion_grid(model, x, labels=labels, observed_rows=rows, n_samples=n_samples, seed=seed)
    path = save_grid(grid, out, nrow=n_samples + 2, scale=2)
    print(f"completion grid (occluded | {n_samples} completions | original): {path}")
    return 0


def extra_commands() -> dict[str, Callable[[list[str]], int]]:
    from genvision.lab.command import cmd_lab
    from genvision.quantize.cli import cmd_patch_vq
    from genvision.report import cmd_report

    return {"guidance-sweep": cmd_guidance_sweep, "demo": cmd_demo, "complete": cmd_complete,
            "patch-vq": cmd_patch_vq, "report": cmd_report, "lab": cmd_lab}
