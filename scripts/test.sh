#!/usr/bin/env bash
# Set up everything, then run the whole test suite. Exits non-zero if any test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
