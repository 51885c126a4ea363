#!/usr/bin/env bash
# Device check (one H200): the DDPM/CFG evaluations that take hours of CPU sampling: DDPM 1000 steps vs
# DDIM 50/20 (Frechet distance etc., n=500), test bits/dim, and both guidance sweeps. Same CLI commands
# as on the CPU, plus --device=cuda. Carry .gpu and the four runs/ folders. Results: $OUT/eval.tgz.
set -u
export PYTHONPATH="$PWD/src:$PWD/.gpu/site"
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" results
G="python3 -m genvision.cli"
R=runs/ddpm-mnist5k/ddpm-mnist5k-ema.safetensors
C=runs/cfg-mnist5k/cfg-mnist5k-ema.safetensors
N=runs/noisy-classifier-mnist5k/noisy-classifier-mnist5k-ema.safetensors
run() { echo "+ $*"; /usr/bin/time -f "  (%e s)" timeout 120 "$@"; }
{
run $G eval $R --device=cuda --n=500 --sampler=ddpm --out=results/ddpm1000.json
run $G eval $R --device=cuda --n=500 --steps=50 --out=results/ddim50.json
run $G eval $R --device=cuda --n=500 --steps=20 --out=results/ddim20.json
run $G eval $C --device=cuda --n=500 --steps=50 --out=results/cfg_w0_ddim50.json
run $G eval $R --device=cuda --metrics=bpd --n=500 --split=val --out=results/ddpm_bpd.json
run $G guidance-sweep $C --device=cuda --weights=0,0.5,1,2,3,4 --n-per-class=50 --steps=50 --out=results/cfg_sweep
run $G guidance-sweep $R --device=cuda --classifier=$N --scales=0,1,2,4,8,16 --n-per-class=50 --steps=50 \
    --out=results/cg_sweep
run $G eval runs/eval-classifier-mnist5k --out=results/eval_classifier.json
} > "$OUT/eval.log" 2>&1
tar czf "$OUT/eval.tgz" results
tail -n 80 "$OUT/eval.log"
