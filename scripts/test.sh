#!/usr/bin/env bash
# Set up everything, then run the whole test suite. Exits non-zero if any test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Test-only Node tools (the Khronos glTF validator), pinned by tools/package-lock.json.
npm ci --prefix tools --no-audit --no-fund --loglevel=error
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
