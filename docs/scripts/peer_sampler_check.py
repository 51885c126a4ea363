"""Is the peer's poor score its network or a sampler mismatch? (docs/diffusion.md Sec. 16.) The peer network saved
by benchmarks/bench_peer_diffusers.py sampled from the same seed with diffusers' DDIMScheduler and with
genvision's ddim_sample on the same betas, both scored by the evaluation classifier, and the picture
docs/results/diffusion/peer_diffusers_samples.png: rows 1-2 diffusers, rows 3-4 genvision, labels 0-9 per row.

    pip install diffusers
    python docs/scripts/peer_sampler_check.py [--weights runs/bench-peer-ours/peer_diffusers.safetensors] [--n 50]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_peer_diffusers import CourseClassConditionedUnet, sample_peer, score  # noqa: E402
from genvision.diffusion.samplers import ddim_sample  # noqa: E402
from genvision.diffusion.schedule import NoiseSchedule  # noqa: E402
from genvision.viz.grid import save_grid  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="runs/bench-peer-ours/peer_diffusers.safetensors")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--eta", type=float, default=1.0)
    ap.add_argument("--out", default="docs/results/diffusion/peer_diffusers_samples.png")
    args = ap.parse_args()
    from diffusers import DDPMScheduler

    model = CourseClassConditionedUnet()
    model.load_state_dict(load_file(args.weights))
    model.eval()
    labels = torch.arange(args.n) % 10
    theirs = sample_peer(model, labels, weight=0.0, steps=50, eta=args.eta, seed=0)
    schedule = NoiseSchedule(DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2").betas.double())
    with torch.no_grad():
        ours = ddim_sample(lambda x, t: model(x, t, labels), schedule, (args.n, 1, 28, 28), steps=50, eta=args.eta,
                           generator=torch.Generator().manual_seed(0))
    for name, images in (("diffusers DDIMScheduler", theirs), ("genvision ddim_sample", ours)):
        print(f"{name}: mean pixel {images.mean():.3f}, {score(images, labels)}")
    print(save_grid(torch.cat([theirs[:20], ours[:20]]), args.out, nrow=10, scale=2))


if __name__ == "__main__":
    main()
