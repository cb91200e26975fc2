#!/usr/bin/env bash
# The tests, in two lanes.
#
#   scripts/test.sh           set everything up, then ruff, mypy, the web app's type check and
#                             tests, and the whole pytest suite (what CI runs, through .ci/run).
#                             Exits non-zero if any test fails or none ran.
#   scripts/test.sh ARGS      the same, ARGS going to pytest (e.g. tests/integration/test_service.py).
#   scripts/test.sh --fast    the inner loop, in a minute or two: ruff, mypy, then tests/unit
#                             without the tests marked `slow` (pytest -m "not slow"). No set-up
#                             beyond a first one, no web app, no servers, no browser. Arguments
#                             after --fast go to pytest (e.g. --fast -x -k scrub).
#
# `--fast` is this script's own option: it is never passed to pytest. After changing dependencies,
# run scripts/setup.sh (the full lane does it every time).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fast" ]; then
    shift
    if [ ! -x .venv/bin/python ]; then
        scripts/setup.sh
    fi
    .venv/bin/ruff check src tests benchmarks
    .venv/bin/mypy
    exec .venv/bin/python -m pytest tests/unit -m "not slow" "$@"
fi

scripts/setup.sh
# The web app's end-to-end tests drive Debian's Chromium (Playwright's own download cannot run here);
# the PACS tests start Debian's Orthanc with its DICOMweb plugin.
MISSING=()
[ -x /usr/bin/chromium ] || MISSING+=(chromium)
[ -x /usr/sbin/Orthanc ] || MISSING+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || MISSING+=(orthanc-dicomweb)
if [ ${#MISSING[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${MISSING[@]}" >/dev/null
fi
# Test-only Node tools (the Khronos glTF validator), pinned by tools/package-lock.json.
npm ci --prefix tools --no-audit --no-fund --loglevel=error
# A real OpenID provider (node-oidc-provider) for the sign-in tests, pinned by its package-lock.json.
npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
npm run typecheck --prefix web --silent
npm test --prefix web --silent
exec .venv/bin/python -m pytest "$@"
