#!/usr/bin/env bash
# Set up everything, then run the whole test suite. Exits non-zero if any test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."
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
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
npm run typecheck --prefix web --silent
npm test --prefix web --silent
exec .venv/bin/python -m pytest "$@"
