#!/usr/bin/env bash
# Set up everything, then run Iris on http://127.0.0.1:8000 with embedded defaults: the API, one
# worker process, SQLite and a local data folder (IRIS_DATA_DIR, default ~/.local/share/iris).
# Extra arguments go to `iris serve` (e.g. --port 8080 --workers 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/iris serve --host 127.0.0.1 --port 8000 "$@"
