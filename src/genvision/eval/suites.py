"""Metric suites, each for one capability (genvision.protocols): a likelihood, a tokenizer's reconstructions, a
clusterer's assignments, an evaluation classifier, a noise-aware classifier. `suites_for` picks them by what
the model can do, never by its name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from genvision.errors import GenvisionError
from genvision.eval.scoring import eval_images, score_images
from genvision.protocols import Clusterer, Likelihood, Tokenizer, num_labels


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

    if not isinstance(model, Tokenizer):
        raise GenvisionError(f"model {config['model']!r} does not reconstruct images through codes")
    x = eval_images(config, data=data, split=split, n=n, data_dir=data_dir)
    device = next(model.parameters()).device
    with torch.no_grad():
        idx = torch.cat([model.encode_indices(c.to(device)).cpu() for c in x.split(250)])
        rec = torch.cat([model.decode_indices(i.to(device)).float().cpu() for i in idx.split(250)]).clamp(-1, 1)
    num_codes = int(model.num_codes)
    stats = codebook_stats(idx, num_codes)
    out: dict[str, Any] = {"recon_mse": float(mse(rec, x)), "recon_psnr": float(psnr(rec, x))}
    if min(x.shape[-2:]) >= 11:  # SSIM's 11x11 Gaussian window (Wang et al. 2004)
        out["recon_ssim"] = float(ssim(rec, x))
    try:  # the reconstructions' Frechet distance: the floor for the prior's samples through this tokenizer
        scored = score_images(rec, None, metrics=["fid"], data=data, split=split, classifier_path=classifier_path,
                              data_dir=data_dir)
        out["recon_frechet_distance"] = scored["frechet_distance"]
        out["eval_classifier"] = scored["eval_classifier"]
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

    if not isinstance(model, Clusterer):
        raise GenvisionError(f"model {config['model']!r} has no cluster assignment")
    real = load_dataset(data, split=split, data_dir=data_dir)
    x = eval_images(config, data=data, split=split, n=len(real), data_dir=data_dir)
    report = clustering_report(model, x, real.labels)
    figure = component_rows(model, out_dir / "components.png", generator=torch.Generator().manual_seed(0))
    print(f"per-component samples: {figure}")
    return {f"clustering_{k}": v for k, v in report.items()}


def binary_baselines(config: dict[str, Any], *, data: str, split: str, n: int, data_dir: str | None
                     ) -> dict[str, Any]:
    """Independent-Bernoulli and Bernoulli-mixture NLL (nats/image) on the same binarised held-out images."""
    from genvision.eval.baselines import bernoulli_mixture_nll, independent_bernoulli_nll

    test = (eval_images(config, data=data, split=split, n=n, data_dir=data_dir) > 0).flatten(1).float()
    train = (eval_images(config, data=data, split="train", n=10**9, data_dir=data_dir) > 0).flatten(1).float()
    return {"baseline_independent_bernoulli_nats": float(independent_bernoulli_nll(train, test).mean()),
            "baseline_bernoulli_mixture20_nats": float(bernoulli_mixture_nll(train, test).mean())}


# Images per nll call: a 28x28 conv net's activations stay in cache (benchmarks/bench_pixelcnn_bpd.py).
NLL_BATCH = 16


def model_bits_per_dim(model, config: dict[str, Any], *, data: str, split: str, n: int,
                       data_dir: str | None, marginal_images: int = 1000) -> dict[str, Any]:
    """Test likelihood through the model's `nll(x) -> (B,) nats per image` (each family's exact/bound NLL).
    A class-conditional model also reports -log p(x), exact over up to `marginal_images` images."""
    from genvision.data import load_dataset
    from genvision.eval.likelihood import likelihood_report

    if not isinstance(model, Likelihood):
        raise GenvisionError("this model does not report a likelihood (no nll method)")
    real = load_dataset(data, split=split, data_dir=data_dir)
    x = eval_images(config, data=data, split=split, n=n, data_dir=data_dir)
    device = next(model.parameters()).device
    # A class-conditional model reports -log p(x | y) with the true labels.
    num_classes = num_labels(model)
    conditional = num_classes > 0
    labels = real.labels[: len(x)] if conditional else None

    extra: dict[str, Any] = {}
    with torch.no_grad():
        if conditional:
            # -log p(x) = -log sum_y p(y) p(x | y) with uniform p(y): the model once per class, on a seeded
            # subset of `marginal_images` when n is larger (the mean is then an estimate with its standard error).
            from genvision.eval.likelihood import class_marginal_nll

            both = class_marginal_nll(lambda xb, lb: model.nll(xb, labels=lb), x.to(device), labels, num_classes,
                                      marginal_images=marginal_images, batch=NLL_BATCH)
            nll = both.conditional.float()
            extra["nll_marginal_nats"] = both.marginal_mean
            extra["nll_marginal_images"] = len(both.subset)
            if len(both.subset) < len(x):
                extra["nll_marginal_se"] = both.marginal_se
        else:
            nll = torch.cat([model.nll(x[s:s + NLL_BATCH].to(device), labels=None).cpu()
                             for s in range(0, len(x), NLL_BATCH)])
    rep = likelihood_report(nll, real.image_shape)
    return {"nll_nats": float(rep.nats_per_image), "bits_per_dim": float(rep.bits_per_dim),
            "bpd_images": len(x), "nll_conditional_on_label": conditional, **extra}
