#!/usr/bin/env bash
# The TotalSegmentator checks for a bare GPU machine (or, with --cpu, their small CPU half here).
#
# On the GPU machine (Python 3.12 with CUDA torch, numpy, scipy; no network) the other packages
# travel as wheels in .whl/. It builds the full-size stand-in weights there from a seed, installs
# them through Iris's install path, then runs benchmarks/totalseg_full_bench.py: Iris's engine on
# CUDA (nnU-Net's precision, bf16, fp32) against TotalSegmentator's own API on the same weights,
# 512x512x400 and 512x512x800, fast and normal. Results: JSON and logs under $OUT.
#
#   benchmarks/gpu_check.sh            # on the GPU machine ($OUT set by the device tool)
#   benchmarks/gpu_check.sh --cpu      # the CPU half, small, here (uses .venv)
set -uo pipefail
cd "${REPO:-$(dirname "$0")/..}"
OUT=${OUT:-$(mktemp -d)}
WORK=${WORK:-/tmp/iris-gpu-check}
rm -rf "$WORK"; mkdir -p "$OUT" "$WORK"
if [[ "${1:-}" == "--cpu" ]]; then
    PY=${PY:-.venv/bin/python}
    DEVICE=cpu
    STEPS=("${CPU_STEP:-160 160 120|fast|auto|2|2}")
    DEADLINE=${DEADLINE:-3600}
else
    PY=python3
    DEVICE=cuda
    # shape | quality | Iris variants (precision[/bN: N tiles per pass]) | API calls | Iris studies
    STEPS=(
        "512 512 400|fast|auto bf16 fp32|2|2"
        "512 512 400|normal|auto bf16|2|2"
        "512 512 800|fast|auto|1|2"
        "512 512 800|normal|auto|1|2"
        "512 512 1000|normal|auto auto/b2|0|1"
    )
    if ls .whl/*.whl >/dev/null 2>&1; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site .whl/*.whl || exit 1
    fi
    export PYTHONPATH=/tmp/site:$PWD/src
    nvidia-smi >>"$OUT/setup.txt" 2>&1
fi
DEADLINE=${DEADLINE:-440}  # seconds for the whole check: later steps are skipped, not cut short
export PYTHONUNBUFFERED=1 TOTALSEG_HOME_DIR=$WORK/home
started=$(date +%s)
"$PY" -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), sys.version)' \
    | tee -a "$OUT/setup.txt"
"$PY" benchmarks/make_totalseg_standin.py "$WORK/standin" --quality fast normal \
    >"$OUT/standin.json" 2>>"$OUT/setup.txt" || { tail -20 "$OUT/setup.txt"; exit 1; }
echo "stand-in built and installed in $(( $(date +%s) - started )) s"
n=0
for step in "${STEPS[@]}"; do
    IFS='|' read -r shape quality variants calls studies <<<"$step"
    n=$((n + 1))
    left=$((DEADLINE - ($(date +%s) - started)))
    if ((left < 30)); then
        echo "step $n ($shape $quality) skipped: ${left} s left" | tee -a "$OUT/bench.log"
        continue
    fi
    extra=(--studies "$studies" --baseline-studies "$calls")
    [[ "$calls" == "0" ]] && extra+=(--no-baseline)
    # shellcheck disable=SC2086
    timeout "$left" "$PY" benchmarks/totalseg_full_bench.py --weights "$WORK/standin/weights" \
        --device "$DEVICE" --quality "$quality" --shape $shape --variants $variants "${extra[@]}" \
        --json "$WORK/step_${n}.json" >>"$OUT/bench.log" 2>&1
    echo "step $n ($shape $quality) exit $? at $(($(date +%s) - started)) s"
    # One results file (the device tool brings back at most 8): every step's rows so far.
    "$PY" -c 'import json, sys; print(json.dumps([r for f in sys.argv[1:] for r in json.load(open(f))], indent=1))' \
        "$WORK"/step_*.json >"$OUT/results.json" 2>/dev/null
    grep -h '"summary"' "$OUT/bench.log" | tail -1 | cut -c1-3000
done
# A compact table of everything measured (the device tool returns the output's tail).
"$PY" - "$OUT/results.json" <<'PY'
import json, sys
try:
    rows = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit("no results")
for r in rows:
    a = r.get("agreement", {})
    print(
        f"{'x'.join(map(str, r['shape'])):>12} {r['quality']:>6} {r['contender']:>18} ok={r['ok']}"
        f" s={[round(s, 2) for s in r.get('seconds', [])]} ram={r['peak_ram_gib']:.1f}G"
        f" gpu={r.get('peak_gpu_gib', 0):.2f}G agree={a.get('all_voxels', '-')}"
        f" fg={a.get('foreground_voxels', '-')} x{r.get('speedup_second_study', 0):.2f}"
    )
PY
