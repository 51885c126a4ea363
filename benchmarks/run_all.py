"""Run every CPU benchmark in sequence and print their tables (make bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = [
    ["bench_trainer.py", "--steps", "5"],
    ["bench_ddpm.py", "--batch", "64", "--steps", "3"],
    ["bench_guidance.py", "--batch", "64", "--steps", "5"],
    ["bench_pixelcnn_sampling.py"],
    ["bench_compression.py", "--n", "100", "--batch", "100"],
]

if __name__ == "__main__":
    failed = 0
    for args in BENCHES:
        print(f"\n### {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]]).returncode != 0
    sys.exit(1 if failed else 0)
