"""Evaluating a run, a checkpoint, pretrained:NAME or a samples .npz: the library behind `genvision eval`.

`evaluate(target, EvalOptions(...))` returns the metrics and where `eval` writes them. The suites run are
chosen by what the model can do (genvision.protocols): a classifier is scored as a classifier, a generator by
its samples, a likelihood model by bits/dim, a tokenizer by its reconstructions.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genvision.config import option, parse_key_values, parse_options, split_options
from genvision.device import check_device
from genvision.errors import GenvisionError
from genvision.eval.samples import is_samples_file
from genvision.eval.scoring import GENERATIVE_DEFAULT, score_images
from genvision.outputs import check_output_file

KNOWN = ("fid", "kid", "pr", "accuracy", "cas", "bpd", "baselines", "clustering", "reconstruction",
         "classifier-accuracy")
MODEL_SUITES = ("bpd", "baselines", "clustering", "reconstruction")


def _check_data(name: str, option: str) -> None:
    from genvision.data.registry import DATASETS

    if name not in DATASETS:
        raise GenvisionError(f"{option}={name!r}: unknown data set; valid names: {', '.join(DATASETS)}")


def _metric_list(text: str) -> list[str] | None:
    metrics = [m.strip() for m in text.split(",") if m.strip()] or None
    for m in metrics or []:
        if m not in KNOWN:
            raise GenvisionError(f"--metrics: unknown metric {m!r}; known: {', '.join(KNOWN)}")
    return metrics


@dataclass(frozen=True)
class EvalOptions:
    """metrics: comma-separated (default: fid,kid,pr,accuracy for generators); n: samples / held-out images;
    batch: sampling batch; classifier: the evaluation classifier (default: the data set's); out: the JSON path
    (default RUN/eval.json, or SAMPLES.eval.json). An earlier evaluation there is kept: the new one goes to
    eval-2.json, eval-3.json, ... (eval/results.py). marginal_images: images on which bpd's class marginal
    -log p(x) runs the model once per class (exact when >= n, else estimated with its standard error)."""

    metrics: str = option("", check=lambda text, _: _metric_list(text))
    split: str = "val"
    n: int = option(1000, min=1)
    seed: int = 0
    batch: int = option(250, min=1)
    classifier: str | None = None
    device: str = option("cpu", check=check_device)
    data_dir: str | None = None
    data: str | None = option(None, check=_check_data)
    out: str | None = None
    marginal_images: int = option(1000, min=1)

    def metric_list(self) -> list[str] | None:
        return _metric_list(self.metrics)


# EvalOptions that choose how a model is sampled: a samples file has nothing to sample, so they are refused for
# one rather than silently ignored.
SAMPLING_ONLY = ("n", "seed", "batch", "device", "marginal_images")


def output_path(target: str, opts: EvalOptions) -> Path:
    """Where `eval` writes: --out, SAMPLES.eval.json beside a samples file, ./eval-NAME/eval.json for
    pretrained:NAME (the package is read-only), else RUN/eval.json; checked before any work."""
    from genvision import pretrained
    from genvision.train.run_folder import run_folder

    if opts.out:
        path = Path(opts.out)
    elif is_samples_file(target):
        path = Path(target).with_suffix(".eval.json")
    elif pretrained.is_pretrained(target):
        path = Path(f"eval-{target.split(':', 1)[1]}") / "eval.json"
    else:
        path = run_folder(Path(target)) / "eval.json"
    return check_output_file(path, option="--out" if opts.out else "eval's output", suffixes=(".json",))


def evaluate(target: str, opts: EvalOptions, sample_options: Mapping[str, Any] | None = None
             ) -> tuple[dict[str, Any], Path]:
    """The metrics of target and the path `eval` writes them to (eval/results.py keeps an earlier one).
    sample_options: strings for the model's sampling options (its entry's sample_options dataclass), e.g.
    {"guidance_weight": "1"}."""
    sample_options = dict(sample_options or {})
    metrics = opts.metric_list()
    out_path = output_path(target, opts)
    t0 = time.time()
    result: dict[str, Any] = {"target": target, "split": opts.split}
    if is_samples_file(target):
        from genvision.data import load_dataset
        from genvision.eval.samples import load_samples_npz

        if sample_options:
            raise GenvisionError(f"unknown options for a samples file: {', '.join('--' + k for k in sample_options)}")
        data = opts.data or "mnist5k"
        real = load_dataset(data, split=opts.split, data_dir=opts.data_dir)
        images, labels = load_samples_npz(target, image_shape=real.image_shape,
                                          num_classes=real.num_classes or None, data=data)
        result.update(data=data, n=len(images))
        result.update(score_images(images, labels, metrics=metrics or list(GENERATIVE_DEFAULT), data=data,
                                   split=opts.split, classifier_path=opts.classifier, data_dir=opts.data_dir))
    else:
        result.update(_evaluate_model(target, opts, metrics, sample_options, out_path))
    result["seconds"] = round(time.time() - t0, 1)
    return result, out_path


def _evaluate_model(target: str, opts: EvalOptions, metrics: list[str] | None,
                    sample_options: dict[str, Any], out_path: Path) -> dict[str, Any]:
    from genvision.eval import suites
    from genvision.eval.generate import generate
    from genvision.loading import load_model, load_sample_requirements
    from genvision.memory import check_images_fit
    from genvision.models import get_entry
    from genvision.protocols import ImageClassifier, NoisyClassifier
    from genvision.train.run_folder import run_folder

    model, config = load_model(target, device=opts.device)
    data, split, n, data_dir = opts.data or config["data"]["data"], opts.split, opts.n, opts.data_dir
    result: dict[str, Any] = {"model": config["model"], "data": data}
    run_dir = run_folder(Path(target))
    if target.startswith("pretrained:"):  # the package is read-only: figures go beside the output
        run_dir = out_path.parent
        run_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(model, ImageClassifier):
        result.update(suites.evaluate_classifier(model, data=data, split=split, data_dir=data_dir))
    elif isinstance(model, NoisyClassifier):
        result.update(suites.noisy_classifier_by_t(model, run_dir, data=data, split=split, data_dir=data_dir))
    else:
        entry = get_entry(config["model"])
        options = dataclasses.asdict(parse_options(entry.sample_options, sample_options,
                                                   what=f"sampling {config['model']}"))
        metrics = metrics or list(GENERATIVE_DEFAULT)
        if "bpd" in metrics:
            result.update(suites.model_bits_per_dim(model, config, data=data, split=split, n=n, data_dir=data_dir,
                                                             marginal_images=opts.marginal_images))
        if "baselines" in metrics:
            result.update(suites.binary_baselines(config, data=data, split=split, n=n, data_dir=data_dir))
        if "clustering" in metrics:
            result.update(suites.clustering_metrics(model, config, run_dir, data=data, split=split,
                                                    data_dir=data_dir))
        if "reconstruction" in metrics:
            result.update(suites.reconstruction_metrics(model, config, data=data, split=split, n=n,
                                                        data_dir=data_dir, classifier_path=opts.classifier))
        sample_metrics = [m for m in metrics if m not in MODEL_SUITES]
        if sample_metrics:
            t1 = time.time()
            check_images_fit(n, config["image_shape"], what=f"--n={n}")
            kwargs = load_sample_requirements(entry, options, device=opts.device)
            images, labels = generate(model, n, seed=opts.seed, batch=opts.batch, options=kwargs)
            result.update(n=n, sample_seconds=round(time.time() - t1, 1), sample_options=options)
            result.update(score_images(images, labels, metrics=sample_metrics, data=data, split=split,
                                       classifier_path=opts.classifier, data_dir=data_dir))
    return result


def evaluate_target(target: str, args: list[str]) -> tuple[dict[str, Any], Path]:
    """evaluate() from command-line style arguments ['--metrics=fid', '--n=50', '--guidance_weight=1']."""
    values = parse_key_values(args)
    opts, sample_options = split_options(values, EvalOptions, what="eval")
    given = [k for k in SAMPLING_ONLY if k in values]
    if is_samples_file(target) and given:
        raise GenvisionError(
            f"{', '.join('--' + k for k in given)} {'does' if len(given) == 1 else 'do'} not apply to a samples "
            f"file: eval scores every image in "
            f"{target}; its options are --metrics, --split, --data, --data-dir, --classifier, --out")
    return evaluate(target, opts, sample_options)
