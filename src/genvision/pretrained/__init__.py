"""Pretrained mnist5k models shipped inside the package: `pretrained:NAME` works wherever a run folder or a
checkpoint does (sample, eval, report, --vqvae=/--dvae= of a prior).

Each model is two files in `weights/`: NAME.safetensors (EMA weights, fp16 storage, config JSON in the
metadata; a checkpoint like any other) and NAME.json (the command that trained it, the commit, the training
time and device, the measured metrics with the commands that measured them, a quick `check` evaluation the
test suite reproduces, and the training curve). `python -m genvision.pretrained.build NAME` (or `make
pretrained-NAME`) retrains one with its recorded command and rewrites both files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genvision.errors import GenvisionError

PREFIX = "pretrained:"
WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class PretrainedSpec:
    """How one shipped model is trained and measured.

    train_args: `genvision train MODEL` arguments beyond --preset (seed fixed by the preset's TrainConfig);
    depends: (config key, pretrained name) pairs: the prior's frozen first stage, read as pretrained:NAME;
    eval_args: `genvision eval` argument lists whose numbers make up the metrics table;
    check_args: one quick `genvision eval` the tests rerun and compare with the stored figures;
    scored: its evaluations score images in the shipped evaluation classifier's features (--classifier=...);
    False for the classifiers themselves."""

    name: str
    model: str
    description: str
    preset: str = "mnist"
    train_args: tuple[str, ...] = ()
    depends: tuple[tuple[str, str], ...] = ()
    eval_args: tuple[tuple[str, ...], ...] = ()
    check_args: tuple[str, ...] = ()
    scored: bool = True


_N = "--n=500"
CATALOG: tuple[PretrainedSpec, ...] = (
    PretrainedSpec("eval-classifier-mnist", "eval-classifier", "evaluation classifier (features for FD/KID/PR)",
                   eval_args=((),), check_args=(), scored=False),
    PretrainedSpec("ddpm-mnist", "ddpm", "unconditional DDPM, 1.2M-parameter UNet",
                   eval_args=(("--metrics=fid,pr", _N, "--steps=50"),),
                   check_args=("--metrics=fid", "--n=32", "--steps=5")),
    PretrainedSpec("cfg-mnist", "cfg", "class-conditional DDPM for classifier-free guidance",
                   eval_args=(("--metrics=fid,pr,accuracy", _N, "--steps=50"),
                              ("--metrics=fid,pr,accuracy", _N, "--steps=50", "--guidance_weight=1")),
                   check_args=("--metrics=accuracy", "--n=20", "--steps=5", "--guidance_weight=3")),
    PretrainedSpec("noisy-classifier-mnist", "noisy-classifier", "noise-aware classifier p(y | x_t, t)",
                   eval_args=((),), check_args=(), scored=False),
    PretrainedSpec("pixelcnn-mnist", "pixelcnn", "class-conditional Gated PixelCNN, binarised, CFG-trained",
                   eval_args=(("--metrics=bpd,baselines", _N), ("--metrics=fid,pr,accuracy", _N),
                              ("--metrics=fid,pr,accuracy", _N, "--guidance_weight=1"),
                              ("--metrics=fid,pr,accuracy", _N, "--guidance_weight=2")),
                   check_args=("--metrics=bpd", "--n=50")),
    PretrainedSpec("vqvae-mnist", "vqvae", "VQ-VAE, 7x7 codes, K=64 (EMA codebook)",
                   eval_args=(("--metrics=reconstruction", _N),), check_args=("--metrics=reconstruction", "--n=50")),
    PretrainedSpec("vqvae-prior-mnist", "vqvae-prior", "class-conditional Gated PixelCNN over VQ-VAE codes",
                   depends=(("vqvae", "vqvae-mnist"),),
                   eval_args=(("--metrics=fid,pr,accuracy", _N),), check_args=("--metrics=accuracy", "--n=20")),
    PretrainedSpec("dvae-mixture-mnist", "dvae-mixture", "mixture dVAE, K=10 one-hot latent + affine style, exact ELBO",
                   eval_args=(("--metrics=clustering,bpd", _N),), check_args=("--metrics=bpd", "--n=50")),
    PretrainedSpec("dvae-tokens-mnist", "dvae-tokens", "DALL-E style token dVAE, 7x7 tokens",
                   eval_args=(("--metrics=reconstruction", _N),), check_args=("--metrics=reconstruction", "--n=50")),
    PretrainedSpec("dvae-tokens-prior-mnist", "dvae-tokens-prior", "Gated PixelCNN prior over dVAE token maps",
                   depends=(("dvae", "dvae-tokens-mnist"),),
                   eval_args=(("--metrics=fid,pr,accuracy", _N),
                              ("--metrics=fid,pr,accuracy", _N, "--guidance_weight=1")),
                   check_args=("--metrics=accuracy", "--n=20")),
)


def spec(name: str) -> PretrainedSpec:
    for s in CATALOG:
        if s.name == name:
            return s
    raise GenvisionError(f"no pretrained model {name!r}; available: {', '.join(s.name for s in CATALOG)}")


def for_model(model: str) -> PretrainedSpec:
    """The catalog's shipped model of a registered model name (the first, if several)."""
    for s in CATALOG:
        if s.model == model:
            return s
    kinds = ", ".join(sorted({s.model for s in CATALOG}))
    raise GenvisionError(f"no pretrained {model!r} model; the catalog ships {kinds}")


def is_pretrained(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(PREFIX)


def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.safetensors"


def info_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.json"


def shipped() -> list[str]:
    """Names of the catalog's models whose weights are in this installation, in catalog order."""
    return [s.name for s in CATALOG if weights_path(s.name).is_file() and info_path(s.name).is_file()]


def resolve(target: str) -> Path:
    """pretrained:NAME -> the shipped checkpoint file (one-line error if unknown or not shipped)."""
    name = target[len(PREFIX):]
    spec(name)
    path = weights_path(name)
    if not path.is_file():
        raise GenvisionError(f"pretrained model {name!r} is not shipped in this installation "
                             f"(shipped: {', '.join(shipped()) or 'none'}); train it with `make pretrained-{name}`")
    check_weights(name)
    return path


def check_weights(name: str) -> None:
    """The shipped file's SHA-256 against the one NAME.json records (`weights_sha256`), when it records one."""
    from genvision.train.integrity import file_sha256

    path, info_file = weights_path(name), info_path(name)
    expected = info(name).get("weights_sha256") if info_file.is_file() else None
    if expected is not None and file_sha256(path) != expected:
        raise GenvisionError(f"pretrained model {name!r}: {path} does not match the SHA-256 recorded in "
                             f"{info_file.name}; the file is corrupt (reinstall, or rebuild with "
                             f"`make pretrained-{name}`)")


def info(name: str) -> dict[str, Any]:
    """The JSON beside the weights: command, commit, time, metrics, check, curve."""
    path = info_path(name)
    if not path.is_file():
        raise GenvisionError(f"pretrained model {name!r} has no {path.name}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise GenvisionError(f"{path}: not valid JSON ({err})") from None


# The figures `genvision models` and the README table show, in this order, when a model has them.
HEADLINE = (
    ("classifier_accuracy", "val accuracy {:.1%}"), ("frechet_train_vs_val", "FD floor {:.2f}"),
    ("accuracy_mean_over_t", "accuracy over t {:.1%}"),
    ("frechet_distance", "FD {:.2f}"), ("precision", "precision {:.2f}"), ("recall", "recall {:.2f}"),
    ("accuracy", "class accuracy {:.1%}"), ("accuracy@w=1", "CFG w=1: accuracy {:.1%}"),
    ("frechet_distance@w=1", "FD {:.2f}"), ("accuracy@w=3", "CFG w=3: accuracy {:.1%}"),
    ("frechet_distance@w=3", "FD {:.2f}"),
    ("nll_nats", "NLL {:.1f} nats"), ("bits_per_dim", "{:.3f} bits/dim"),
    ("recon_psnr", "PSNR {:.2f} dB"), ("code_perplexity", "code perplexity {:.1f}"),
    ("clustering_accuracy", "clustering accuracy {:.1%}"), ("clustering_nmi", "NMI {:.2f}"),
)


def headline(metrics: dict[str, Any]) -> str:
    """One line of a model's main figures, e.g. 'FD 7.63, precision 0.74, recall 0.94'."""
    parts = [fmt.format(metrics[key]) for key, fmt in HEADLINE
             if isinstance(metrics.get(key), int | float) and not isinstance(metrics.get(key), bool)]
    return ", ".join(parts) or "-"


def train_time(info: dict[str, Any]) -> str:
    """'6.0 min (cuda)', or 'cpu: see note' when the JSON records no time (its note says why)."""
    seconds = info.get("train_seconds")
    where = info.get("train_device", "cpu")
    if seconds is None:
        return f"{where}: see note"
    return f"{seconds / 60:.1f} min ({where})"


def markdown_table() -> str:
    """The README's table of shipped models, from the JSON beside each checkpoint."""
    rows = ["| pretrained:NAME | params | file | trained | measured | command |", "|---|---|---|---|---|---|"]
    for name in shipped():
        info_ = info(name)
        rows.append(f"| `{name}` | {info_['parameters'] / 1e6:.2f}M | {info_['weights_bytes'] / 1e6:.1f} MB | "
                    f"{train_time(info_)} | {headline(info_['metrics'])} | `{info_['command']}` |")
    return "\n".join(rows)
