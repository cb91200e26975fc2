#!/usr/bin/env bash
# Fuzz every reader of untrusted files for a chosen time each (atheris / libFuzzer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET ...]
#
# Corpora grow under .fuzz/corpus/TARGET (kept between runs); crashes land in .fuzz/crashes/ as
# TARGET-crash-*. Turn each into a regression file under tests/fuzz_regressions/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(nifti nrrd mha mhd dicomfile dicomfolder zip labelmap maskfolder dicomseg)
fi
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python
mkdir -p .fuzz/crashes
status=0
for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  log=".fuzz/$target.log"
  if ! "$python" fuzz/iris_fuzz.py "$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -timeout=30 -artifact_prefix=".fuzz/crashes/$target-" ".fuzz/corpus/$target" >"$log" 2>&1; then
    status=1
    grep -E -A12 "Uncaught|ERROR" "$log" | head -40 || true
  fi
  grep -E "DONE|^Done" "$log" | tail -2 || true
done
ls .fuzz/crashes 2>/dev/null | sed 's/^/crash: /'
exit $status
