"""The commands of the CLI table (genvision.cli.COMMANDS): each parses its arguments into a frozen options
dataclass with the same code as training configs (types checked, unknown keys rejected, bare flags true)
and calls the library."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from genvision.config import check_number_list, option, parse_key_values, parse_options, split_options
from genvision.device import check_device
from genvision.errors import GenvisionError
from genvision.outputs import check_output_dir, check_output_file, output_kind


def _target(args: list[str], usage: str) -> tuple[str, list[str]]:
    if not args or args[0].startswith("--"):
        raise GenvisionError(f"usage: {usage}")
    return args[0], args[1:]


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GenvisionError(f"--{name} must be comma-separated numbers, got {text!r}") from None


# ---- train -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainOptions:
    """The train command's own options; every other --key=value goes to the model, train or data config."""

    preset: str | None = None
    name: str | None = None
    runs_dir: str = "runs"
    resume: bool = False


def cmd_train(args: list[str]) -> int:
    """genvision train MODEL [--preset=P] [--name=RUN] [--runs-dir=runs] [--resume] [--key=value ...]
    Trains runs/NAME (default MODEL-DATA); --resume continues it with its stored config. The other options
    set the model, training and data configs: `genvision train MODEL --help` lists them, `genvision models` the
    models and their presets."""
    from genvision.runs import train_run

    model_name, rest = _target(args, "genvision train MODEL [--preset=P] [--name=RUN] [--resume] [--key=value]")
    opts, overrides = split_options(parse_key_values(rest), TrainOptions, what="train")
    train_run(model_name, preset=opts.preset, name=opts.name, runs_dir=opts.runs_dir, resume=opts.resume,
              overrides=overrides)
    return 0


def describe_train(args: list[str]) -> str:
    """`genvision train MODEL --help`: the options of MODEL's configs with defaults and accepted ranges; without
    a model, the list of models."""
    from genvision.config import describe_options
    from genvision.models import get_entry, registry

    if not args or args[0].startswith("--"):
        return "models: " + ", ".join(sorted(registry()))
    entry = get_entry(args[0])
    lines = [f"{args[0]}: {entry.description}", f"presets: {', '.join(entry.presets) or '-'}"
             + (f" (default {entry.default_preset})" if entry.default_preset else "")]
    hidden = entry.hidden_fields()
    for name, cfg in {"train command": TrainOptions(), **entry.option_configs()}.items():
        skip = {f"  --{k.replace('_', '-')}=" for k in hidden.get(name, ())}
        lines += [f"{name} options:", *[ln for ln in describe_options(type(cfg))
                                        if not any(ln.startswith(p) for p in skip)]]
    return "\n".join(lines)


cmd_train.describe = describe_train  # cli.command_help adds it to `genvision train MODEL --help`


# ---- sample ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleOptions:
    """The sample command's own options; the others are the model's sampling options (entry.sample_options)."""

    out: str = ""
    n: int = option(16, min=1)
    batch: int = option(256, min=1, help="images sampled at once (memory); the samples do not depend on it "
                                          "as long as n <= batch")
    seed: int = 0
    label: int | None = option(None, min=0)
    device: str = option("cpu", check=check_device)


SAMPLE_OUTPUTS = (".png", ".npz")


def cmd_sample(args: list[str]) -> int:
    """genvision sample RUN|CHECKPOINT|pretrained:NAME --out FILE.png|FILE.npz [--n=16] [--label=K] [--seed=0]
    [--batch=256] [--device=cpu] [--model's sampling options, e.g. --steps=50 --guidance-weight=1]"""
    import torch

    from genvision.eval.generate import sample_batches
    from genvision.loading import load_model, load_sample_requirements
    from genvision.memory import check_images_fit
    from genvision.models import get_entry
    from genvision.protocols import SampleGrid, Sampler, num_labels, sample_grid
    from genvision.viz.grid import save_grid, save_images_npz

    target, rest = _target(args, "genvision sample RUN --n N --out FILE.png|FILE.npz")
    opts, model_opts = split_options(parse_key_values(rest), SampleOptions, what="sample")
    out = check_output_file(opts.out, suffixes=SAMPLE_OUTPUTS)
    model, config = load_model(target, device=opts.device)
    entry = get_entry(config["model"])
    if not isinstance(model, Sampler):
        raise GenvisionError(f"model {config['model']!r} does not generate images")
    options = parse_options(entry.sample_options, model_opts, what=f"sampling {config['model']}")
    n, num_classes = opts.n, num_labels(model)
    check_images_fit(n, config["image_shape"], what=f"--n={n}", grid=output_kind(out) == ".png")
    kwargs = load_sample_requirements(entry, dataclasses.asdict(options), device=opts.device)
    if opts.label is not None:
        if num_classes > 0 and not 0 <= opts.label < num_classes:
            raise GenvisionError(f"--label {opts.label} is out of range: the model has classes 0..{num_classes - 1}")
        grid = SampleGrid({"labels": torch.full((n,), opts.label, dtype=torch.long)}, 0, "")
    else:
        grid = sample_grid(model, n)  # one column per class (or mixture component)
    images = sample_batches(model, n, grid.conditions, seed=opts.seed, batch=opts.batch, options=kwargs)
    if output_kind(out) == ".npz":
        path = save_images_npz(images, out, labels=grid.conditions["labels"] if opts.label is not None else None)
    else:
        path = save_grid(images, out, nrow=grid.columns or int(max(1, round(n ** 0.5))))
    print(f"wrote {n} samples to {path}")
    return 0


# ---- data, models ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataOptions:
    data_dir: str = ""


def cmd_data(args: list[str]) -> int:
    """genvision data [NAME] [--data-dir=DIR]"""
    from genvision.data import describe_dataset, list_datasets

    if not args:
        print(list_datasets())
        return 0
    name, rest = _target(args, "genvision data [NAME] [--data-dir=DIR]")
    opts = parse_options(DataOptions, parse_key_values(rest), what="data")
    print(describe_dataset(name, data_dir=opts.data_dir or None))
    return 0


@dataclass(frozen=True)
class ModelsOptions:
    markdown: bool = False


def cmd_models(args: list[str]) -> int:
    """genvision models [--markdown]"""
    from genvision import pretrained
    from genvision.models import registry

    opts = parse_options(ModelsOptions, parse_key_values(args), what="models")
    if opts.markdown:
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


# ---- guidance-sweep, demo, complete ------------------------------------------------------------------


@dataclass(frozen=True)
class GuidanceSweepOptions:
    # CFG weights w, comma-separated (default 0,0.5,1,2,4 when no --classifier)
    weights: str | None = option(None, check=check_number_list)
    classifier: str | None = None  # a noisy-classifier run: also sweep classifier guidance
    scales: str = option("0,1,2,4,8", check=check_number_list)
    n_per_class: int = option(50, min=1)
    steps: int = option(50, min=1)
    seed: int = 0
    out: str | None = None
    eval_classifier: str | None = None
    bf16: bool = True  # the network under bf16 autocast while sampling, as in sample/eval (docs/diffusion.md, 15)
    device: str = option("cpu", check=check_device)


def cmd_guidance_sweep(args: list[str]) -> int:
    """genvision guidance-sweep RUN [--weights=0,0.5,1,2,4] [--classifier=NOISY_RUN --scales=0,1,2,4]
    [--n-per-class=50] [--steps=50] [--out=DIR] [--eval-classifier=RUN] [--bf16=true]"""
    import torch

    from genvision.diffusion.sweep import class_by_weight_grid, guidance_sweep, write_sweep
    from genvision.eval.table import format_table
    from genvision.loading import load_model
    from genvision.memory import check_images_fit
    from genvision.protocols import num_labels

    target, rest = _target(args, "genvision guidance-sweep RUN [--weights=0,1,2] [--classifier=RUN --scales=0,1]")
    opts = parse_options(GuidanceSweepOptions, parse_key_values(rest), what="guidance-sweep")
    out = check_output_dir(opts.out or (Path(target) / "guidance" if Path(target).is_dir()
                                        else Path(target).parent / "guidance"),
                           option="--out" if opts.out else "guidance-sweep's output")
    model, config = load_model(target, device=opts.device)
    data = config["data"]["data"]
    num_classes = int(config["num_classes"])
    check_images_fit(opts.n_per_class * max(num_classes, 1), config["image_shape"],
                     what=f"--n-per-class={opts.n_per_class} x {num_classes} classes")
    sweeps = []
    if opts.classifier:
        noisy_model, _ = load_model(opts.classifier, device=opts.device, expect="noisy-classifier")
        sweeps.append(("classifier_guidance", "classifier_scale", _floats(opts.scales, "scales"),
                       {"classifier": noisy_model}, "s={}"))
    if opts.weights is not None or not sweeps:
        if not num_labels(model):
            raise GenvisionError(f"{target} is not class-conditional: CFG needs a cfg run (or pass --classifier)")
        sweeps.append(("cfg", "guidance_weight", _floats(opts.weights or "0,0.5,1,2,4", "weights"), {}, "w={}"))
    for name, option_name, values, extra, fmt in sweeps:
        t0 = time.time()
        with torch.no_grad():
            rows = guidance_sweep(model, values=values, option=option_name, n_per_class=opts.n_per_class,
                                  num_classes=num_classes, data=data, classifier_path=opts.eval_classifier,
                                  seed=opts.seed, steps=opts.steps, bf16=opts.bf16, **extra)
        table, plot = write_sweep(rows, out, name, option_name)
        grid = class_by_weight_grid(model, out / f"{name}_grid.png", values=values, option=option_name,
                                    num_classes=num_classes, seed=opts.seed, steps=opts.steps, label_fmt=fmt,
                                    bf16=opts.bf16, **extra)
        print(format_table(rows))
        print(f"{name}: {len(values)} values x {opts.n_per_class * num_classes} samples in {time.time() - t0:.0f}s")
        print(f"table {table}\nplot {plot}\ngrid {grid}")
    return 0


def cmd_demo(args: list[str]) -> int:
    """The main job on the embedded data: train the small CFG model on mnist5k, then write the class x lambda
    grid, a class x CFG weight grid and a denoising filmstrip. Extra --key=value options go to training; an
    existing runs/demo-cfg is reused (and then takes no options)."""
    import torch

    from genvision.diffusion.filmstrip import denoising_filmstrip
    from genvision.diffusion.sweep import class_by_weight_grid
    from genvision.loading import load_model
    from genvision.runs import train_run

    run = Path("runs/demo-cfg")
    t0 = time.time()
    options = parse_key_values(args)
    if not any(run.glob("checkpoints/*.safetensors")):
        # no end-of-training sample grid: the demo draws its own pictures from the final model below, and the
        # trainer's grid (64 fp32 samples) cost 13 s of 370 s of training (docs/diffusion.md 14f) for a duplicate
        train_run("cfg", preset="demo", name="demo-cfg", overrides={"num_samples": "0", **options})
    elif options:  # the options could not apply: the model is trained already
        raise GenvisionError(f"{run} already holds a trained demo model, so {' '.join(args)} would be ignored: "
                             f"remove {run} to train a new one with these options")
    else:
        print(f"using the trained model in {run} (remove the folder to train a new one)")
    model, _ = load_model(run)
    lambdas = [0.0, 0.25, 0.5, 0.75, 1.0]
    with torch.no_grad():
        grid = class_by_weight_grid(model, run / "class_x_lambda.png", values=lambdas, option="guidance_lambda",
                                    num_classes=model.num_classes, steps=50, label_fmt="l={}", bf16=True)
        strong = class_by_weight_grid(model, run / "class_x_weight.png", values=[0.0, 1.0, 2.0, 4.0],
                                      option="guidance_weight", num_classes=model.num_classes, steps=50,
                                      label_fmt="w={}", bf16=True)
        film = denoising_filmstrip(model, run / "filmstrip.png", n=10, labels=torch.arange(10),
                                   guidance_weight=1.0, bf16=True)
    print(f"demo done in {time.time() - t0:.0f}s")
    print(f"class x lambda grid (lambda=0: unconditional, 1: conditional): {grid}")
    print(f"class x CFG weight grid: {strong}")
    print(f"denoising filmstrip: {film}")
    return 0


@dataclass(frozen=True)
class CompleteOptions:
    rows: int = option(14, min=0)
    images: int = option(8, min=1)
    samples: int = option(4, min=1)
    seed: int = 0
    out: str | None = None
    device: str = option("cpu", check=check_device)


def cmd_complete(args: list[str]) -> int:
    """genvision complete RUN [--rows=14] [--images=8] [--samples=4] [--seed=0] [--out=FILE.png]
    Image completion (PixelRNN Fig. 1): keep the top rows of held-out images, sample the rest. Each row of
    the grid: the occluded input, the completions, the original."""
    import torch

    from genvision.autoregressive.completion import complete_images, completion_grid, completion_nll
    from genvision.data import load_dataset
    from genvision.eval.scoring import eval_images
    from genvision.loading import load_model
    from genvision.memory import check_images_fit
    from genvision.protocols import Completer, PixelLikelihood, num_labels
    from genvision.viz.grid import save_grid

    target, rest = _target(args, "genvision complete RUN [--rows=14] [--images=8] [--samples=4] [--out=F.png]")
    opts = parse_options(CompleteOptions, parse_key_values(rest), what="complete")
    out = check_output_file(opts.out or (Path(target) / "completion.png" if Path(target).is_dir()
                                         else "completion.png"),
                            option="--out" if opts.out else "complete's output")
    model, config = load_model(target, device=opts.device)
    if not isinstance(model, Completer):
        raise GenvisionError(f"model {config['model']!r} cannot complete images")
    check_images_fit(opts.images * (opts.samples + 2), config["image_shape"], grid=True,
                     what=f"--images={opts.images} x (--samples={opts.samples} + 2)")
    height = int(config["image_shape"][1])
    if opts.rows >= height:
        raise GenvisionError(f"--rows={opts.rows} leaves nothing to complete: the images have {height} rows; "
                             f"use 0..{height - 1}")
    x = eval_images(config, data=config["data"]["data"], split="val", n=10**9, data_dir=None)
    labels_all = load_dataset(config["data"]["data"], split="val").labels
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(opts.seed))[:opts.images]
    x, labels = x[pick], (labels_all[pick] if num_labels(model) else None)
    done = complete_images(model, x, labels=labels, observed_rows=opts.rows, n_samples=opts.samples, seed=opts.seed)
    path = save_grid(completion_grid(x, done, observed_rows=opts.rows), out, nrow=opts.samples + 2, scale=2)
    print(f"completion grid (occluded | {opts.samples} completions | original): {path}")
    if isinstance(model, PixelLikelihood):
        nll = completion_nll(model, x, done, labels=labels, observed_rows=opts.rows)
        print(f"NLL per completed pixel ({nll.pixels} per image): completions {nll.completions:.4f} nats, "
              f"the originals' hidden rows {nll.originals:.4f} nats")
    return 0
