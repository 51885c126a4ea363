"""Side by side (issue 14): genvision's `cfg --preset=mnist` against a class-conditional DDPM built from diffusers'
`UNet2DModel` the way the Hugging Face diffusion course builds one (Unit 2, "class-conditioned diffusion model"),
given the same wall-clock training time on this machine, both scored by the package's evaluation classifier on
mnist5k val (100 samples per class, DDIM-50, eta as given).

The peer, as its example has it: UNet2DModel(sample_size=28, in_channels=1 + 4, out_channels=1,
layers_per_block=2, block_out_channels=(32, 64, 64), DownBlock2D / AttnDownBlock2D x 2, AttnUpBlock2D x 2 /
UpBlock2D); the class as a learned 4-dimensional embedding broadcast to 4 extra input channels;
DDPMScheduler(1000 steps, "squaredcos_cap_v2"); Adam at lr 1e-3 with no warm-up; batch 128; fp32; MSE on the
noise. Classifier-free guidance needs an unconditional model, so the peer gets what ours has: an 11th (null)
embedding and labels dropped to it with p = 0.1 (Ho & Salimans 2022). It samples with diffusers' DDIMScheduler.
`--peer-lr-warmup N` adds the warm-up the course lacks (linear over N steps, then constant).

Ours trains first (the preset's steps, or --ours-steps) and its wall time is the peer's budget, so both rows get
the same minutes on the same machine in one run; ours is kept as a run folder (--runs-dir, --name).

    pip install diffusers        # a benchmark-only dependency, not a genvision one
    python benchmarks/bench_peer_diffusers.py [--ours-steps 4400] [--weights 0,1,3] [--n 1000] [--eta 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table  # noqa: E402
from genvision.data import load_dataset  # noqa: E402
from genvision.eval.scoring import score_images  # noqa: E402

CLASSIFIER = "pretrained:eval-classifier-mnist"
NULL = 10  # the peer's null class for CFG


class CourseClassConditionedUnet(nn.Module):
    """The course's model: a diffusers UNet2DModel with the class embedding as extra input channels."""

    def __init__(self, num_classes: int = 10, class_emb_size: int = 4) -> None:
        super().__init__()
        from diffusers import UNet2DModel

        self.class_emb = nn.Embedding(num_classes + 1, class_emb_size)  # + the null class
        self.model = UNet2DModel(
            sample_size=28, in_channels=1 + class_emb_size, out_channels=1, layers_per_block=2,
            block_out_channels=(32, 64, 64),
            down_block_types=("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"))

    def forward(self, x: Tensor, t: Tensor, labels: Tensor) -> Tensor:
        """x: (B, 1, 28, 28), t: (B,) or scalar, labels: (B,) in 0..10 -> predicted noise (B, 1, 28, 28)."""
        b, _, h, w = x.shape
        emb = self.class_emb(labels)[:, :, None, None].expand(b, -1, h, w)
        return self.model(torch.cat([x, emb], dim=1), t).sample


def train_peer(seconds: float, *, lr: float, warmup: int, batch: int, p_uncond: float, seed: int
               ) -> tuple[CourseClassConditionedUnet, int, float]:
    """Train the peer for `seconds` of wall time; returns (model, steps, seconds used)."""
    from diffusers import DDPMScheduler

    torch.manual_seed(seed)
    data = load_dataset("mnist5k", split="train")
    images, labels = data.float_images(), data.labels
    model = CourseClassConditionedUnet()
    sched = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    step, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        x0, y = images[idx], labels[idx].clone()
        y[torch.rand(batch, generator=gen) < p_uncond] = NULL
        noise = torch.randn(x0.shape, generator=gen)
        t = torch.randint(0, 1000, (batch,), generator=gen)
        loss = nn.functional.mse_loss(model(sched.add_noise(x0, noise, t), t, y), noise)
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (step + 1) / warmup) if warmup > 0 else lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f"  peer step {step}: loss {loss.item():.4f}, {time.perf_counter() - t0:.0f}s", flush=True)
    return model.eval(), step, time.perf_counter() - t0


@torch.no_grad()
def sample_peer(model: CourseClassConditionedUnet, labels: Tensor, *, weight: float, steps: int, eta: float,
                seed: int, batch: int = 250) -> Tensor:
    """DDIM with diffusers' scheduler and CFG eps_u + (1 + w)(eps_c - eps_u); (N, 1, 28, 28) in [-1, 1]."""
    from diffusers import DDIMScheduler

    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    sched.set_timesteps(steps)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, len(labels), batch):
        y = labels[start:start + batch]
        x = torch.randn((len(y), 1, 28, 28), generator=gen)
        for t in sched.timesteps:
            if weight == 0.0:
                eps = model(x, t, y)
            else:
                both = model(torch.cat([x, x]), t, torch.cat([y, torch.full_like(y, NULL)]))
                eps_c, eps_u = both.chunk(2)
                eps = eps_u + (1.0 + weight) * (eps_c - eps_u)
            x = sched.step(eps, t, x, eta=eta, generator=gen).prev_sample
        out.append(x.clamp(-1, 1))
    return torch.cat(out)


@torch.no_grad()
def denoising_check(model: CourseClassConditionedUnet, t: int = 300) -> dict[str, float]:
    """The peer's held-out noise-prediction MSE at timestep t and the MSE of its x0 estimate, against the trivial
    predictions (eps = 0: MSE 1; x0 = x_t / sqrt(alpha_bar)): a model that learned anything beats both."""
    from diffusers import DDPMScheduler

    sched = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2")
    val = load_dataset("mnist5k", split="val")
    x0, y = val.float_images()[:250], val.labels[:250]
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    tt = torch.full((len(x0),), t)
    x_t = sched.add_noise(x0, noise, tt)
    eps = model(x_t, tt, y)
    a = sched.alphas_cumprod[t]
    x0_hat = (x_t - (1 - a).sqrt() * eps) / a.sqrt()
    return {"eps_mse": round(nn.functional.mse_loss(eps, noise).item(), 4),
            "x0_mse": round(nn.functional.mse_loss(x0_hat, x0).item(), 4),
            "x0_mse_trivial": round(nn.functional.mse_loss(x_t / a.sqrt(), x0).item(), 4)}


def score(images: Tensor, labels: Tensor) -> dict[str, float]:
    r = score_images(images, labels, metrics=["fid", "accuracy"], data="mnist5k", split="val",
                     classifier_path=CLASSIFIER)
    return {"accuracy": r["accuracy"], "worst_class": min(r["accuracy_per_class"]),
            "fd": r["frechet_distance"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours-steps", type=int, default=None, help="default: the mnist preset's steps")
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--name", default="bench-peer-ours")
    ap.add_argument("--weights", default="0,1,3")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=50, help="DDIM steps")
    ap.add_argument("--eta", type=float, default=1.0)
    ap.add_argument("--peer-lr", type=float, default=1e-3)
    ap.add_argument("--peer-lr-warmup", type=int, default=0)
    ap.add_argument("--peer-batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write the rows as JSON here")
    ap.add_argument("--ours-run", default=None, help="score this trained run instead of training ours now")
    ap.add_argument("--ours-seconds", type=float, default=None, help="with --ours-run: its training wall time")
    ap.add_argument("--peer-weights", default=None,
                    help="score these saved peer weights (an earlier run's peer_diffusers.safetensors) instead of "
                         "training the peer now; with --peer-steps and --peer-seconds, its recorded training")
    ap.add_argument("--peer-steps", type=int, default=None)
    ap.add_argument("--peer-seconds", type=float, default=None)
    args = ap.parse_args()
    try:
        import diffusers
    except ImportError:
        sys.exit("this benchmark needs diffusers (pip install diffusers); genvision itself does not")

    from genvision.loading import load_model
    from genvision.runs import train_run

    weights = [float(w) for w in args.weights.split(",")]
    labels = torch.arange(args.n) % 10
    run_dir = Path(args.runs_dir) / args.name
    overrides = {"val_every": 0, "sample_every": 0, "ckpt_every": 0}
    if args.ours_steps:
        overrides["steps"] = args.ours_steps
    if args.ours_run:  # trained before (e.g. by an earlier run of this benchmark): its recorded wall time
        run_dir, ours_seconds = Path(args.ours_run), args.ours_seconds
        if ours_seconds is None:
            sys.exit("--ours-run needs --ours-seconds (the wall time it trained for)")
    else:
        t0 = time.perf_counter()
        train_run("cfg", preset="mnist", name=args.name, runs_dir=args.runs_dir, overrides=overrides)
        ours_seconds = time.perf_counter() - t0  # data loading and the final checkpoint included
    ours, config = load_model(run_dir)
    ours_steps = int(config["train"]["steps"])
    print(f"ours: {ours_steps} steps in {ours_seconds:.0f}s; the peer gets the same wall time", flush=True)
    if args.peer_weights:
        from safetensors.torch import load_file

        if args.peer_steps is None or args.peer_seconds is None:
            sys.exit("--peer-weights needs --peer-steps and --peer-seconds (its recorded training)")
        peer = CourseClassConditionedUnet()
        peer.load_state_dict(load_file(args.peer_weights))
        peer, peer_steps, peer_seconds = peer.eval(), args.peer_steps, args.peer_seconds
    else:
        peer, peer_steps, peer_seconds = train_peer(ours_seconds, lr=args.peer_lr, warmup=args.peer_lr_warmup,
                                                    batch=args.peer_batch, p_uncond=0.1, seed=args.seed)
        from safetensors.torch import save_file

        save_file(peer.state_dict(), str(run_dir / "peer_diffusers.safetensors"))
    print(f"peer: {peer_steps} steps in {peer_seconds:.0f}s; held-out check: {denoising_check(peer)}", flush=True)
    peer_name = f"diffusers UNet2DModel (course), lr {args.peer_lr:g}" + (
        f" + warm-up {args.peer_lr_warmup}" if args.peer_lr_warmup else "")
    contestants = [  # (row name, training steps, training seconds, w -> samples)
        ("genvision cfg mnist", ours_steps, ours_seconds, lambda w: _sample_ours(ours, labels, w, args)),
        (peer_name, peer_steps, peer_seconds,
         lambda w: sample_peer(peer, labels, weight=w, steps=args.steps, eta=args.eta, seed=args.seed))]
    rows = []
    for w in weights:
        for name, steps, secs, draw in contestants:
            s0 = time.perf_counter()
            images = draw(w)
            sample_s = time.perf_counter() - s0
            rows.append({"model": name, "w": w, "train_steps": steps, "train_s": round(secs),
                         **{k: round(v, 4) for k, v in score(images, labels).items()},
                         "img_per_s": round(len(images) / sample_s, 2)})
            print(rows[-1], flush=True)
    print(f"\ndiffusers {diffusers.__version__}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"n={args.n} ({args.n // 10} per class), DDIM-{args.steps}, eta={args.eta}; ours sampled in bf16")
    print_table("same training minutes, same evaluation classifier", rows)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


def _sample_ours(model, labels: Tensor, w: float, args) -> Tensor:
    from genvision.eval.generate import sample_batches

    return sample_batches(model, len(labels), {"labels": labels}, seed=args.seed, batch=250,
                          options={"steps": args.steps, "eta": args.eta, "guidance_weight": w, "bf16": True})


if __name__ == "__main__":
    main()
