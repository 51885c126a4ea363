#!/usr/bin/env bash
# Device check (one H200): train the DDPM, CFG and noisy-classifier `mnist` presets with the same
# commands as on the CPU (only --device differs), time them, export EMA weights, and measure CUDA
# throughput. Needs .gpu/site/mlxtend carried (the machine has no mlxtend). Results go to $OUT.
set -u
export PYTHONPATH="$PWD/src:$PWD/.gpu/site"
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT" runs
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
for m in ddpm cfg noisy-classifier; do
  ( /usr/bin/time -f "$m wall %e s" python3 -m genvision.cli train $m --data=mnist5k --name=$m-mnist5k \
      --progress=false --device=cuda ) > "$OUT/$m.log" 2>&1 &
done
wait
tail -n 3 "$OUT"/*.log
python3 - <<'PY'
import torch
from genvision.train.checkpoint import export_weights
for m in ("ddpm", "cfg", "noisy-classifier"):
    export_weights(f"runs/{m}-mnist5k", f"runs/{m}-mnist5k/{m}-mnist5k-ema.safetensors")
PY
for m in ddpm cfg noisy-classifier; do
  tar czf "$OUT/$m-run.tgz" -C runs "$m-mnist5k/config.json" "$m-mnist5k/metrics.jsonl" \
     "$m-mnist5k/$m-mnist5k-ema.safetensors" $(cd runs && ls $m-mnist5k/samples/*.png 2>/dev/null)
done
timeout 120 python3 benchmarks/bench_ddpm.py --device cuda --batch 256 --steps 20 --rounds 3 > "$OUT/bench_cuda.txt" 2>&1
cat "$OUT/bench_cuda.txt"
ls -la "$OUT"
