"""`genvision eval TARGET`: score a run, a checkpoint or a samples.npz, print a table, write eval.json."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from genvision.errors import GenvisionError

GENERATIVE_DEFAULT = ("fid", "kid", "pr", "accuracy")
KNOWN = ("fid", "kid", "pr", "accuracy", "cas", "bpd", "baselines", "clustering", "reconstruction",
         "classifier-accuracy")


def load_samples_npz(path: Path) -> tuple[Tensor, Tensor | None]:
    """images (N, H, W, C) uint8 -> float (N, C, H, W) in [-1, 1]; labels (N,) if present."""
    try:
        with np.load(path, allow_pickle=False) as f:
            images = f["images"]
            labels = f["labels"] if "labels" in f.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise GenvisionError(f"{path}: not a samples .npz with an 'images' array ({exc})") from None
    if images.dtype != np.uint8 or images.ndim != 4:
        raise GenvisionError(f"{path}: 'images' must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    y = None if labels is None else torch.from_numpy(labels).long()
    if y is not None and y.shape != (x.shape[0],):
        raise GenvisionError(f"{path}: {x.shape[0]} images but labels of shape {tuple(y.shape)}")
    return x, y


def generate(model, n: int, *, seed: int, batch: int, options: dict[str, Any]) -> tuple[Tensor, Tensor | None]:
    """n samples (class-balanced labels when the model is conditional), in batches."""
    num_classes = int(getattr(model, "num_classes", 0) or 0)
    labels = torch.arange(n) % num_classes if num_classes > 0 else None
    gen = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    out = []
    with torch.no_grad():
        for start in range(0, n, batch):
            lab = None if labels is None else labels[start:start + batch]
            if lab is not None:
                lab = lab.to(next(model.parameters()).device)
            out.append(model.sample(min(batch, n - start), labels=lab, generator=gen, **options).cpu())
    return torch.cat(out).float().clamp(-1, 1), labels


def score_images(images: Tensor, labels: Tensor | None, *, metrics: list[str], data: str, split: str,
                 classifier_path: str | None, data_dir: str | None = None) -> dict[str, Any]:
    """Distribution and conditional metrics of images against the real split, in classifier features."""
    from genvision.data import load_dataset
    from genvision.eval.conditional import class_accuracy, classification_accuracy_score
    from genvision.eval.features import classify, load_classifier, reference_stats
    from genvision.eval.frechet import frechet_distance, gaussian_stats
    from genvision.eval.kid import kernel_inception_distance
    from genvision.eval.precision_recall import precision_recall

    result: dict[str, Any] = {}
    clf, clf_ckpt = load_classifier(classifier_path, data=data)
    out = classify(clf, images)
    if {"fid", "kid", "pr"} & set(metrics):
        ref = reference_stats(clf, clf_ckpt, data=data, split=split, data_dir=data_dir)
        if "fid" in metrics:
            result["frechet_distance"] = frechet_distance(gaussian_stats(out.features), ref.stats)
        if "kid" in metrics:
            kid = kernel_inception_distance(out.features, ref.features, subset_size=min(500, len(images)),
                                            generator=torch.Generator().manual_seed(0))
            result["kid"] = kid.mean
            result["kid_std"] = kid.std
        if "pr" in metrics:
            pr = precision_recall(ref.features, out.features, k=3)
            result["precision"], result["recall"] = pr.precision, pr.recall
    if "accuracy" in metrics and labels is not None:
        acc = class_accuracy(out.logits, labels, out.logits.shape[1])
        result["accuracy"] = acc.overall
        result["accuracy_per_class"] = acc.per_class
    if "cas" in metrics and labels is not None:
        result["cas"] = classification_accuracy_score(images, labels, load_dataset(data, split=split,
                                                                                   data_dir=data_dir))
    return result


def run_eval(target: str, args: list[str]) -> int:
    """`genvision eval`: measure, print a table, write the JSON."""
    from genvision.eval.table import format_table

    result, out_path = evaluate_target(target, args)
    rows = [{"metric": k, "value": v} for k, v in result.items()
            if isinstance(v, float | int) and not isinstance(v, bool) and not (isinstance(v, float) and math.isnan(v))]
    print(format_table(rows))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path}")
    return 0


def evaluate_target(target: str, args: list[str]) -> tuple[dict[str, Any], Path]:
    """The metrics of a run / checkpoint / pretrained:NAME / samples.npz, and where `eval` writes them."""
    from genvision.config import apply_overrides, parse_key_values

    opts = parse_key_values(args)
    metrics_opt = opts.pop("metrics", None)
    metrics = [m.strip() for m in metrics_opt.split(",")] if metrics_opt else None
    for m in metrics or []:
        if m not in KNOWN:
            raise GenvisionError(f"unknown metric {m!r}; known: {', '.join(KNOWN)}")
    split = opts.pop("split", "val")
    n = int(opts.pop("n", "1000"))
    seed = int(opts.pop("seed", "0"))
    batch = int(opts.pop("batch", "250"))
    classifier = opts.pop("classifier", None)
    device = opts.pop("device", "cpu")
    data_dir = opts.pop("data_dir", None)
    data = opts.pop("data", None)
    out_opt = opts.pop("out", None)
    path = Path(target)
    t0 = time.time()
    result: dict[str, Any] = {"target": target, "split": split}
    if target.endswith(".npz"):
        if opts:
            raise GenvisionError(f"unknown options for a samples file: {', '.join('--' + k for k in opts)}")
        images, labels = load_samples_npz(path)
        data = data or "mnist5k"
        result.update(data=data, n=len(images))
        result.update(score_images(images, labels, metrics=metrics or list(GENERATIVE_DEFAULT), data=data,
                                   split=split, classifier_path=classifier, data_dir=data_dir))
        out_path = path.with_suffix(".eval.json")
    else:
        from genvision.models import get_entry, load_model
        from genvision.train.run_folder import run_folder

        model, config = load_model(target, device=device)
        data = data or config["data"]["data"]
        result.update(model=config["model"], data=data)
        run_dir = run_folder(path)
        if target.startswith("pretrained:"):  # the package is read-only: figures go beside --out or to ./eval-NAME/
            run_dir = Path(out_opt).parent if out_opt else Path(f"eval-{target.split(':', 1)[1]}")
            run_dir.mkdir(parents=True, exist_ok=True)
        out_path = run_dir / "eval.json"
        if config["model"] == "eval-classifier":
            result.update(evaluate_classifier(model, data=data, split=split, data_dir=data_dir))
        elif config["model"] == "noisy-classifier":
            result.update(noisy_classifier_by_t(model, run_dir, data=data, split=split, data_dir=data_dir))
        else:
            entry = get_entry(config["model"])
            options = dataclasses.asdict(apply_overrides({"sample": entry.sample_options()}, opts)["sample"])
            metrics = metrics or list(GENERATIVE_DEFAULT)
            if "bpd" in metrics:
                result.update(model_bits_per_dim(model, config, data=data, split=split, n=n, data_dir=data_dir))
            if "baselines" in metrics:
                result.update(binary_baselines(config, data=data, split=split, n=n, data_dir=data_dir))
            if "clustering" in metrics:
                result.update(clustering_metrics(model, config, run_dir, data=data, split=split, data_dir=data_dir))
            if "reconstruction" in metrics:
                result.update(reconstruction_metrics(model, config, data=data, split=split, n=n, data_dir=data_dir,
                                                     classifier_path=classifier))
            sample_metrics = [m for m in metrics if m not in ("bpd", "baselines", "clustering", "reconstruction")]
            if sample_metrics:
                t1 = time.time()
                images, labels = generate(model, n, seed=seed, batch=batch, options=options)
                result.update(n=n, sample_seconds=round(time.time() - t1, 1), sample_options=options)
                result.update(score_images(images, labels, metrics=sample_metrics, data=data, split=split,
                                           classifier_path=classifier, data_dir=data_dir))
    result["seconds"] = round(time.time() - t0, 1)
    return result, (Path(out_opt) if out_opt else out_path)


def evaluate_classifier(model, *, data: str, split: str, data_dir: str | None) -> dict[str, Any]:
    from genvision.data import load_dataset
    from genvision.eval.conditional import class_accuracy
    from genvision.eval.features import classify
    from genvision.eval.frechet import frechet_distance_features

    real = load_dataset(data, split=split, data_dir=data_dir)
    out = classify(model, real.float_images())
    acc = class_accuracy(out.logits, real.labels, real.num_classes)
    train = classify(model, load_dataset(data, split="train", data_dir=data_dir).float_images())
    # The floor any generator is compared against: real train images vs the real evaluation split.
    floor = frechet_distance_features(train.features, out.features)
    return {"n": len(real), "classifier_accuracy": acc.overall, "accuracy_per_class": acc.per_class,
            f"frechet_train_vs_{split}": floor}


def noisy_classifier_by_t(model, out_dir: Path, *, data: str, split: str, data_dir: str | None) -> dict[str, Any]:
    """Accuracy of the noise-aware classifier on q_sample(x0, t) as a function of t: a table and a plot."""
    from genvision.data import load_dataset
    from genvision.eval.table import format_table

    real = load_dataset(data, split=split, data_dir=data_dir)
    T = model.schedule.num_timesteps
    ts = sorted({0, *range(T // 10, T, T // 10), T - 1})
    device = next(model.parameters()).device
    acc = model.accuracy_by_timestep(real.float_images().to(device), real.labels.to(device), ts,
                                     generator=torch.Generator(device=device).manual_seed(0))
    print(format_table([{"t": t, "accuracy": a} for t, a in zip(ts, acc, strict=True)]))
    from genvision.viz.plots import plot_series

    plot = plot_series(ts, {"accuracy": acc}, out_dir / "accuracy_by_t.png", xlabel="timestep t",
                       ylabel=f"accuracy on q(x_t | x_0), {split}", ylim=(0, 1.02))
    print(f"plot {plot}")
    return {"accuracy_by_t": dict(zip(map(str, ts), acc, strict=True)), "accuracy_mean_over_t": sum(acc) / len(acc)}


def reconstruction_metrics(model, config: dict[str, Any], *, data: str, split: str, n: int,
                           data_dir: str | None, classifier_path: str | None = None) -> dict[str, Any]:
    """MSE / PSNR / SSIM of reconstructions of held-out images, and codebook usage of their code maps, for
    tokenizers (models with encode_indices / decode_indices and num_codes)."""
    from genvision.eval.codebook import codebook_stats
    from genvision.eval.reconstruction import mse, psnr, ssim

    if not (hasattr(model, "encode_indices") and hasattr(model, "decode_indices")):
        raise GenvisionError(f"model {config['model']!r} does not reconstruct images through codes")
    x = eval_images(config, data=data, split=split, n=n, data_dir=data_dir)
    device = next(model.parameters()).device
    with torch.no_grad():
        idx = torch.cat([model.encode_indices(c.to(device)).cpu() for c in x.split(250)])
        rec = torch.cat([model.decode_indices(i.to(device)).float().cpu() for i in idx.split(250)]).clamp(-1, 1)
    num_codes = int(getattr(model, "num_codes", 0) or model.config.num_codes)
    stats = codebook_stats(idx, num_codes)
    out: dict[str, Any] = {"recon_mse": float(mse(rec, x)), "recon_psnr": float(psnr(rec, x))}
    if min(x.shape[-2:]) >= 11:  # SSIM's 11x11 Gaussian window (Wang et al. 2004)
        out["recon_ssim"] = float(ssim(rec, x))
    try:  # the reconstructions' Frechet distance: the floor for the prior's samples through this tokenizer
        scored = score_images(rec, None, metrics=["fid"], data=data, split=split, classifier_path=classifier_path,
                              data_dir=data_dir)
        out["recon_frechet_distance"] = scored["frechet_distance"]
    except GenvisionError:
        pass  # no evaluation classifier trained for this data set
    return {**out, "code_usage": stats.usage, "code_perplexity": stats.perplexity, "dead_codes": stats.dead_codes,
            "code_map_shape": list(idx.shape[1:]), "num_codes": num_codes}


def clustering_metrics(model, config: dict[str, Any], out_dir: Path, *, data: str, split: str,
                       data_dir: str | None) -> dict[str, Any]:
    """Unsupervised classes: argmax q(k | x) on held-out images scored against the labels (Hungarian when
    K <= classes, majority vote otherwise; NMI), and the one-row-per-component figure."""
    from genvision.data import load_dataset
    from genvision.dvae.figures import clustering_report, component_rows

    if not hasattr(model, "cluster"):
        raise GenvisionError(f"model {config['model']!r} has no cluster assignment")
    real = load_dataset(data, split=split, data_dir=data_dir)
    x = eval_images(config, data=data, split=split, n=len(real), data_dir=data_dir)
    report = clustering_report(model, x, real.labels)
    figure = component_rows(model, out_dir / "components.png", generator=torch.Generator().manual_seed(0))
    print(f"per-component samples: {figure}")
    return {f"clustering_{k}": v for k, v in report.items()}


def eval_images(config: dict[str, Any], *, data: str, split: str, n: int, data_dir: str | None) -> Tensor:
    """The first n images of a real split, put through the run's own data transform (e.g. binarisation)
    with a fixed seed, so every model and baseline is scored on the same held-out data."""
    from genvision.config import from_dict
    from genvision.data import DataConfig, load_dataset

    x = load_dataset(data, split=split, data_dir=data_dir).float_images()[:n]
    transform = from_dict(DataConfig, config.get("data", {})).batch_transform()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)
        return transform(x, torch.Generator().manual_seed(1234))


def binary_baselines(config: dict[str, Any], *, data: str, split: str, n: int, data_dir: str | None
                     ) -> dict[str, Any]:
    """Independent-Bernoulli and Bernoulli-mixture NLL (nats/image) on the same binarised held-out images."""
    from genvision.eval.baselines import bernoulli_mixture_nll, independent_bernoulli_nll

    test = (eval_images(config, data=data, split=split, n=n, data_dir=data_dir) > 0).flatten(1).float()
    train = (eval_images(config, data=data, split="train", n=10**9, data_dir=data_dir) > 0).flatten(1).float()
    return {"baseline_independent_bernoulli_nats": float(independent_bernoulli_nll(train, test).mean()),
            "baseline_bernoulli_mixture20_nats": float(bernoulli_mixture_nll(train, test).mean())}


def model_bits_per_dim(model, config: dict[str, Any], *, data: str, split: str, n: int,
                       data_dir: str | None) -> dict[str, Any]:
    """Test likelihood through the model's `nll(x) -> (B,) nats per image` (each family's exact/bound NLL)."""
    from genvision.data import load_dataset
    from genvision.eval.likelihood import likelihood_report

    if not hasattr(model, "nll"):
        raise GenvisionError("this model does not report a likelihood (no nll method)")
    real = load_dataset(data, split=split, data_dir=data_dir)
    x = eval_images(config, data=data, split=split, n=n, data_dir=data_dir)
    device = next(model.parameters()).device
    # A class-conditional model reports -log p(x | y) with the true labels.
    conditional = bool(getattr(model, "label_conditional_likelihood",
                               int(getattr(model, "num_classes", 0) or 0) > 0))
    labels = real.labels[: len(x)] if conditional else None
    num_classes = int(getattr(model, "num_classes", 0) or 0)

    def nll_given(lab_all: Tensor | None) -> Tensor:
        parts = []
        with torch.no_grad():
            for start in range(0, len(x), 100):
                lab = None if lab_all is None else lab_all[start:start + 100].to(device)
                parts.append(model.nll(x[start:start + 100].to(device), labels=lab).cpu())
        return torch.cat(parts)

    extra: dict[str, Any] = {}
    if conditional:
        # -log p(x) = -log sum_y p(y) p(x | y) with uniform p(y): exact for exact-likelihood models; batched
        # over (image, class) pairs and pruned by a cheap lower bound where the model has one (top rows).
        from genvision.eval.likelihood import class_marginal_nll

        bound = None
        if hasattr(model, "nll_top_rows"):
            rows = max(1, x.shape[-2] // 2)
            bound = lambda xb, lb: model.nll_top_rows(xb, rows, labels=lb)  # noqa: E731
        with torch.no_grad():
            both = class_marginal_nll(lambda xb, lb: model.nll(xb, labels=lb), x.to(device), labels, num_classes,
                                      lower_bound_fn=bound)
        nll = both.conditional.float()
        extra["nll_marginal_nats"] = float(both.marginal.mean())
        extra["marginal_full_passes_per_image"] = both.full_passes / len(x)
    else:
        nll = nll_given(labels)
    rep = likelihood_report(nll, real.image_shape)
    return {"nll_nats": float(rep.nats_per_image), "bits_per_dim": float(rep.bits_per_dim),
            "bpd_images": len(x), "nll_conditional_on_label": conditional, **extra}
