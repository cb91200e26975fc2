"""Build full-size stand-ins of TotalSegmentator's ``total`` models and install them like real ones.

Writes the models (published plans, random weights from ``--seed``; see
src/iris3d/segment/totalseg/standin.py and docs/totalsegmentator.md) into ``SOURCE/``, then
installs them into ``WEIGHTS/`` through Iris's own offline install (``iris models install
--from SOURCE``), which checks and stages them exactly as it does a release archive. About 800 MB;
never built by the tests.

    .venv/bin/python benchmarks/make_totalseg_standin.py /tmp/standin [--quality fast ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from iris3d.contracts import Quality
from iris3d.segment.totalseg.install import install_from
from iris3d.segment.totalseg.standin import PUBLISHED, build_standin, describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="SOURCE/ and WEIGHTS/ go here")
    parser.add_argument("--quality", nargs="+", default=["fastest", "fast", "normal"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    source, weights = args.folder / "source", args.folder / "weights"
    built = build_standin(source, [Quality(q) for q in args.quality], seed=args.seed)
    report = install_from(source, weights)
    summary = {
        "weights": str(weights),
        "installed": list(report.datasets),
        "qualities": sorted(str(q) for q in report.qualities),
        "parameters": {folder.parent.name: count for folder, count in built},
        "architectures": describe(sorted(PUBLISHED.items())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
