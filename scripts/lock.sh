#!/usr/bin/env bash
# Regenerate deploy/requirements.lock and deploy/build-requirements.lock (every Python package of
# the images, pinned with hashes) from pyproject.toml, resolved on PyPI for CPython 3.11 on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
# --isolated: no local wheel folders or extra indexes from this machine's pip configuration.
"$python" -m pip --isolated lock . hatchling setuptools wheel -o pylock.tmp.toml \
  --index-url https://pypi.org/simple
trap 'rm -f pylock.tmp.toml' EXIT
"$python" tools/lock_requirements.py pylock.tmp.toml deploy
echo "deploy/requirements.lock: $(grep -c '==' deploy/requirements.lock) packages"
