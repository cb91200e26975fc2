#!/usr/bin/env bash
# Set up everything, then run Iris: for now the demo, which builds a phantom CT study and runs
# the whole pipeline on it, writing the results to ./iris-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/iris demo "${@:-iris-demo}"
