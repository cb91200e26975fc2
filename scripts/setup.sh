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

# The web app (web/dist, served by `iris serve` at /): its API client is generated from the
# service's OpenAPI schema, then built. Skipped when nothing in web/ changed since the last build.
.venv/bin/iris openapi --output web/src/api/schema.json.new
if cmp -s web/src/api/schema.json.new web/src/api/schema.json; then
    rm web/src/api/schema.json.new
else
    mv web/src/api/schema.json.new web/src/api/schema.json
fi
if ! command -v npm >/dev/null; then
    echo "setup: npm not found (Node 20+ needed): the web app is not built; / shows the API docs" >&2
else
    if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]
    then
        npm ci --prefix web --no-audit --no-fund --loglevel=error
    fi
    if [ ! -f web/dist/index.html ] || [ -n "$(find web/src web/index.html web/package-lock.json \
            web/vite.config.ts web/tsconfig.json -newer web/dist/index.html -print -quit)" ]; then
        npm run build --prefix web --silent
    fi
fi
