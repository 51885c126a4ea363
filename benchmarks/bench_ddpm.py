"""DDPM `mnist` preset: training and sampling images/s, fp32 vs bf16 autocast, side by side with diffusers'
UNet2DModel at about the same parameter count, batch and precision (if diffusers is installed).

    python benchmarks/bench_ddpm.py [--device cpu|cuda] [--batch 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.diffusion.schedule import NoiseSchedule  # noqa: E402
from genvision.models import get_entry, make_run_spec  # noqa: E402


def diffusers_unet(device):
    """A UNet2DModel sized like our mnist preset (~1.2M params): 3 levels 32/64/64, attention at 7x7."""
    from diffusers import UNet2DModel

    return UNet2DModel(sample_size=28, in_channels=1, out_channels=1, layers_per_block=1,
                       block_out_channels=(32, 64, 64), norm_num_groups=8,
                       down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
                       up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D")).to(device)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3, help="train steps / denoiser calls per timing")
    args = ap.parse_args()
    dev = torch.device(args.device)
    spec = make_run_spec("ddpm", preset="mnist")
    ours = get_entry("ddpm").make(spec.model_config, (1, 28, 28), 0).to(dev)
    denoisers = {"genvision": lambda x, t: ours.unet(x, t)}
    try:
        theirs = diffusers_unet(dev)
        denoisers["diffusers"] = lambda x, t: theirs(x, t).sample
        modules = {"genvision": ours.unet, "diffusers": theirs}
    except ImportError:
        modules = {"genvision": ours.unet}
        print("diffusers not installed: genvision only (pip install diffusers)")
    sched = NoiseSchedule.cosine(1000).to(dev)
    x0 = torch.randn(args.batch, 1, 28, 28, device=dev).clamp(-1, 1)
    params = {k: sum(p.numel() for p in m.parameters()) / 1e6 for k, m in modules.items()}

    def train_fn(name: str, bf16: bool):
        net, fn = modules[name], denoisers[name]
        opt = torch.optim.AdamW(net.parameters(), lr=1e-4)

        def step():
            for _ in range(args.steps):
                t = torch.randint(0, 1000, (args.batch,), device=dev)
                noise = torch.randn_like(x0)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                    out = fn(sched.q_sample(x0, t, noise), t)
                loss = (out.float() - noise).pow(2).mean()
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)
            if dev.type == "cuda":
                torch.cuda.synchronize()
        return step

    def sample_fn(name: str, bf16: bool):
        fn = denoisers[name]

        @torch.no_grad()
        def run():
            x = torch.randn_like(x0)
            for i in range(args.steps):
                t = torch.full((args.batch,), 999 - i, device=dev, dtype=torch.long)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                    x = x - 0.01 * fn(x, t).float()
            if dev.type == "cuda":
                torch.cuda.synchronize()
        return run

    rows = []
    for kind, make in (("train", train_fn), ("sample (per denoiser call)", sample_fn)):
        fns = {(n, p): make(n, p == "bf16") for n in modules for p in ("fp32", "bf16")}
        t = interleaved({f"{n}/{p}": f for (n, p), f in fns.items()}, rounds=args.rounds)
        for n in modules:
            for p in ("fp32", "bf16"):
                ips = args.batch * args.steps / t[f"{n}/{p}"]
                row = {"what": kind, "model": n, "params_M": params[n], "precision": p, "images_per_s": ips}
                if "diffusers" in modules:
                    row["genvision/diffusers"] = (args.batch * args.steps / t[f"genvision/{p}"]) / (
                        args.batch * args.steps / t[f"diffusers/{p}"])
                rows.append(row)
    print_table(f"DDPM mnist preset, batch {args.batch}, {dev} ({torch.get_num_threads()} threads)", rows)


if __name__ == "__main__":
    main()
