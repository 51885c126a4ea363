"""Vector quantiser forward+backward time vs vector-quantize-pytorch at equal settings (4096 vectors of dim 64,
512 codes, EMA decay 0.99, commitment 0.25, training mode). `pip install vector-quantize-pytorch` (optional).

    python benchmarks/bench_quantizer.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, print_table  # noqa: E402
from genvision.quantize.vector_quantizer import VectorQuantizer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    torch.manual_seed(0)
    z = torch.randn(4, 64, 32, 32)  # (B, D, H, W): 4096 vectors of dim 64
    ours = VectorQuantizer(512, 64, beta=0.25, ema=True, decay=0.99).train()
    fns = {}

    def run_ours():
        for _ in range(args.iters):
            x = z.clone().requires_grad_(True)
            out = ours(x)
            (out.quantized.square().mean() + out.loss).backward()

    fns["genvision"] = run_ours
    try:
        from vector_quantize_pytorch import VectorQuantize

        theirs = VectorQuantize(dim=64, codebook_size=512, decay=0.99, commitment_weight=0.25).train()
        z_last = z.permute(0, 2, 3, 1).reshape(4, 1024, 64).contiguous()

        def run_theirs():
            for _ in range(args.iters):
                x = z_last.clone().requires_grad_(True)
                quantized, _, loss = theirs(x)
                (quantized.square().mean() + loss.sum()).backward()

        fns["vector-quantize-pytorch"] = run_theirs
    except ImportError:
        print("vector-quantize-pytorch not installed: genvision only")
    t = interleaved(fns, rounds=args.rounds)
    base = t["genvision"]
    rows = [{"quantizer": k, "ms_per_fwd_bwd": 1e3 * v / args.iters, "x_genvision_time": v / base}
            for k, v in t.items()]
    print_table(f"VQ forward+backward, 4096x64 inputs, 512 codes, {torch.get_num_threads()} threads", rows)


if __name__ == "__main__":
    main()
