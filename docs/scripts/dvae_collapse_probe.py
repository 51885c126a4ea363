"""Probe of docs/dvae.md Sec. 6c: why the relaxed estimators put every image in one component.

Trains the plain mixture dVAE (K=10) with the Gumbel-softmax estimator and the KL switched off (kl_warmup longer
than the run, so beta stays ~0) and prints, every 400 steps, the mean entropy H(q(k|x)) on the validation digits,
the share of the most used component, and the clustering accuracy. Add --usage=20 to see the usage term fix it.

    python docs/scripts/dvae_collapse_probe.py [--usage=0] [--steps=2000]     (~1 min on 2 CPU cores)
"""

from __future__ import annotations

import argparse

import torch

from genvision.data import load_dataset
from genvision.dvae.mixture import MixtureDVAE, MixtureDVAEConfig
from genvision.eval.clustering import hungarian_accuracy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--usage", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    torch.manual_seed(0)
    train, val = load_dataset("mnist5k", split="train"), load_dataset("mnist5k", split="val")
    x_train, x_val = train.float_images(), val.float_images()
    config = MixtureDVAEConfig(components=10, estimator="gumbel", tau_min=0.5, tau_rate=3e-4,
                               kl_warmup=100 * args.steps, usage_weight=args.usage)
    model = MixtureDVAE(config, (1, 28, 28))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(x_train), (64,))
        x = torch.where(torch.rand(64, 1, 28, 28) < (x_train[idx] + 1) / 2, 1.0, -1.0)  # dynamic binarisation
        loss = model.loss({"image": x})["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 400 == 0:
            with torch.no_grad():
                q = model.posterior_logits(x_val).softmax(1)
            entropy = float(-(q * q.clamp_min(1e-12).log()).sum(1).mean())
            top_share = float(torch.bincount(q.argmax(1), minlength=10).max()) / len(q)
            acc = hungarian_accuracy(val.labels.numpy(), q.argmax(1).numpy())
            print(f"step {step}: H(q(k|x)) = {entropy:.2f} nats, most used component {top_share:.0%} of images, "
                  f"clustering accuracy {acc:.1%}", flush=True)


if __name__ == "__main__":
    main()
