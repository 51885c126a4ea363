#!/usr/bin/env bash
# Device check (one H200): train the Gated PixelCNN `mnist` preset (same command as on the CPU plus
# --device=cuda), evaluate its exact NLL next to the baselines, class-conditional accuracy and the
# completion grid; then the CFG-cost benchmark on CUDA. Carry .gpu and runs/eval-classifier-mnist5k.
set -u
export PYTHONPATH="$PWD/src:$PWD/.gpu/site"
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" results
G="python3 -m genvision.cli"
run() { echo "+ $*"; /usr/bin/time -f "  (%e s)" timeout "$@"; }
{
run 100 $G train pixelcnn --data=mnist5k --name=pixelcnn-mnist5k --progress=false --device=cuda
python3 -c "from genvision.train.checkpoint import export_weights as e; e('runs/pixelcnn-mnist5k', 'runs/pixelcnn-mnist5k/pixelcnn-mnist5k-ema.safetensors')"
P=runs/pixelcnn-mnist5k/pixelcnn-mnist5k-ema.safetensors
run 40 $G eval $P --device=cuda --metrics=bpd,baselines --n=500 --out=results/pixelcnn_nll.json
run 40 $G eval $P --device=cuda --metrics=fid,pr,accuracy --n=500 --batch=500 --out=results/pixelcnn_samples.json
run 20 $G complete $P --device=cuda --rows=14 --images=8 --samples=4 --out=results/pixelcnn_completion.png
run 30 python3 benchmarks/bench_guidance.py --device cuda --batch 64 --steps 20
run 30 python3 benchmarks/bench_guidance.py --device cuda --batch 500 --steps 20
cp runs/pixelcnn-mnist5k/metrics.jsonl runs/pixelcnn-mnist5k/config.json results/ 2>/dev/null
cp runs/pixelcnn-mnist5k/samples/*.png results/ 2>/dev/null
cp $P results/
} > "$OUT/pixelcnn.log" 2>&1
tar czf "$OUT/pixelcnn.tgz" results
tail -n 60 "$OUT/pixelcnn.log"
