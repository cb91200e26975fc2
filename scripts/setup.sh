#!/usr/bin/env bash
# Set up everything Iris needs on a fresh machine: a virtual environment in .venv with Iris and
# its dependencies. Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned in the same command as everything else, so no dependency can replace the CPU
# build with a multi-gigabyte CUDA one.
.venv/bin/python -m pip install --quiet --progress-bar off "torch==2.13.0" -e ".[dev]" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
.venv/bin/python -c "import torch, iris3d; assert torch.__version__.startswith('2.13.0'), torch.__version__"
