"""Salt (isolated bright pixels, issue 14) in samples of a diffusion model, one row per sampler setting.

    python benchmarks/bench_salt.py [--target pretrained:cfg-mnist] [--n 200] [--settings ddim50,ddim50-trailing]
                                    [--out salt.json]

Salt (genvision.eval.salt): pixels brighter than a level whose 8 neighbours are all darker than it, counted
per 100 images, at three levels: `visible` 12.5% grey (-0.75 in [-1, 1]), `faint` 5% (-0.9), and `bright`
(> 0 with neighbours < -0.5); `imgs` is the fraction of images with visible salt. Every setting starts from the
same seed (same x_T); `x_T there` is the mean (min) of x_T at the faint salt pixels. The real mnist5k val
split is the reference row. Counterfactual rows marked "(post)"
reuse a run's samples: the DDPM run's x_1 (the state before the last step) and its x_0 with the posterior
noise of step 1 added at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402
from genvision.data import load_dataset  # noqa: E402
from genvision.diffusion.samplers import ddim_sample  # noqa: E402
from genvision.eval.salt import isolated_on_pixels, salt  # noqa: E402
from genvision.loading import load_model  # noqa: E402


def dynamic_threshold(x0: torch.Tensor, p: float = 0.995) -> torch.Tensor:
    """Imagen's dynamic thresholding (Saharia et al. 2022, Sec. 2.3): s = max(1, p-quantile of |x̂_0|) per
    image, x̂_0 <- clip(x̂_0, -s, s) / s."""
    s = torch.quantile(x0.abs().flatten(1), p, dim=1).clamp(min=1.0).reshape(-1, 1, 1, 1)
    return x0.clamp(-s, s) / s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="pretrained:cfg-mnist")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--settings", default="ddim50")
    ap.add_argument("--out", default="")
    ap.add_argument("--raw", action="store_true", help="the raw weights of a checkpoint, not its EMA")
    args = ap.parse_args()
    model, _ = load_model(args.target, use_ema=not args.raw)
    labels = (torch.arange(args.n) % 10) if model.num_classes > 0 else None
    sched = model.schedule

    def sample(**kw):  # DDIM rows are deterministic (eta = 0) unless they name an eta: the table's old default
        kw = {"eta": 0.0, **kw}
        return model.sample(args.n, labels=labels, generator=torch.Generator().manual_seed(args.seed), **kw)

    def eps_fn(weight: float = 0.0):
        return model.eps_fn(labels, weight=weight)

    def custom_ddim(fn, *, bf16=False, threshold=False, steps=50):
        def wrapped(x, t):
            ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
            with ctx:
                eps = fn(x, t).float()
            if threshold:  # clip x̂_0 by the dynamic threshold, hand the sampler the matching ε
                x0 = dynamic_threshold(sched.predict_x0_from_eps(x, t, eps))
                eps = sched.predict_eps_from_x0(x, t, x0)
            return eps
        return ddim_sample(wrapped, sched, (args.n, *model.image_shape), steps=steps, spacing="leading",
                           clip_x0=not threshold, generator=torch.Generator().manual_seed(args.seed))

    def ddpm_with_counterfactuals(**kw):
        last = {}

        def keep(i, t, x, x0):
            if t == 0:
                last["x1"] = x.clone()
        x0 = sample(sampler="ddpm", callback=keep, **kw)
        sigma = torch.exp(0.5 * sched.posterior_log_variance_clipped[0])
        z = torch.randn(x0.shape, generator=torch.Generator().manual_seed(args.seed + 1))
        return x0, {"x_1 returned instead of x_0 (post)": last["x1"],
                    "noise sigma_1 z added at the last step (post)": x0 + sigma * z}

    settings = {
        "ddim50": lambda: sample(steps=50, spacing="leading"),
        "ddim50-trailing": lambda: sample(steps=50, spacing="trailing"),
        "ddim50-linspace": lambda: sample(steps=50, spacing="linspace"),
        "ddim50-noclip": lambda: sample(steps=50, spacing="leading", clip_x0=False),
        "ddim50-dynthresh": lambda: custom_ddim(eps_fn(), threshold=True),
        "ddim50-bf16": lambda: custom_ddim(eps_fn(), bf16=True),
        "ddim50-eta0.2": lambda: sample(steps=50, spacing="leading", eta=0.2),
        "ddim50-eta0.5": lambda: sample(steps=50, spacing="leading", eta=0.5),
        "ddim50-eta1": lambda: sample(steps=50, spacing="leading", eta=1.0),
        "ddim50-eta1-trailing": lambda: sample(steps=50, spacing="trailing", eta=1.0),
        "ddim50-eta1-w3": lambda: sample(steps=50, spacing="leading", eta=1.0, guidance_weight=3.0),
        "ddim50-w1": lambda: sample(steps=50, spacing="leading", guidance_weight=1.0),
        "ddim50-w3": lambda: sample(steps=50, spacing="leading", guidance_weight=3.0),
        "ddim50-w3-trailing": lambda: sample(steps=50, spacing="trailing", guidance_weight=3.0),
        "ddim10": lambda: sample(steps=10, spacing="leading"),
        "ddim10-trailing": lambda: sample(steps=10, spacing="trailing"),
        "ddim250": lambda: sample(steps=250, spacing="leading"),
        "ddim1000": lambda: sample(steps=1000),
        "ddpm1000": lambda: ddpm_with_counterfactuals(),
        "ddpm1000-beta": lambda: sample(sampler="ddpm", variance="beta"),
        "ddpm1000-noclip": lambda: sample(sampler="ddpm", clip_x0=False),
        "ddpm50": lambda: sample(sampler="ddpm", steps=50, spacing="trailing"),
        "ddpm100": lambda: sample(sampler="ddpm", steps=100, spacing="trailing"),
        "ddpm250": lambda: sample(sampler="ddpm", steps=250, spacing="trailing"),
    }
    real = load_dataset("mnist5k", split="val").float_images()
    rows, results = [], {}

    # Every sampler's first draw from the seeded generator is x_T: where do its outliers end up?
    x_T = torch.randn((args.n, *model.image_shape), generator=torch.Generator().manual_seed(args.seed))

    def add(name, images, seconds):
        vis, faint, bright = salt(images), salt(images, on=-0.9, off=-0.9), salt(images, on=0.0, off=-0.5)
        at = x_T[isolated_on_pixels(images, on=-0.9, off=-0.9)] if images.shape == x_T.shape else x_T[:0]
        results[name] = {"visible_per_100": vis.per_100, "faint_per_100": faint.per_100,
                         "bright_per_100": bright.per_100, "images_with_visible": vis.images,
                         "x_T_at_faint_salt": at.tolist(), "n": images.shape[0], "seconds": round(seconds, 1)}
        rows.append({"setting": name, "visible": f"{vis.per_100:.1f}", "faint": f"{faint.per_100:.1f}",
                     "bright": f"{bright.per_100:.1f}", "imgs": f"{vis.images:.3f}",
                     "x_T there": f"{at.mean():.1f} (min {at.min():.1f})" if len(at) else "-", "n": images.shape[0],
                     "s": f"{seconds:.0f}"})

    add("real mnist5k val", real, 0.0)
    for name in args.settings.split(","):
        t0 = time.perf_counter()
        with torch.no_grad():
            out = settings[name]()
        extra = {}
        if isinstance(out, tuple):
            out, extra = out
        add(name, out, time.perf_counter() - t0)
        for k, v in extra.items():
            add(f"{name}: {k}", v, 0.0)
        print(rows[-1 - len(extra)], flush=True)
    print_table(f"salt of {args.target}{' (raw weights)' if args.raw else ''}, n={args.n}, seed {args.seed}", rows)
    if args.out:
        path = Path(args.out)
        old = json.loads(path.read_text()) if path.exists() else {}
        old.setdefault(args.target + (" (raw weights)" if args.raw else ""), {}).update(results)
        path.write_text(json.dumps(old, indent=1))


if __name__ == "__main__":
    main()
