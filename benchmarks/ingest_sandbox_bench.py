"""What checking an upload in a limited child costs, against checking it in-process.

Prints the median wall time of ``inspect`` (what an upload runs) in-process and through
``run_limited`` for a small and a mid-sized NIfTI, the difference per upload and the ratio.

    .venv/bin/python benchmarks/ingest_sandbox_bench.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from iris3d.ingest.inspection import inspect
from iris3d.ingest.sandbox import Limits, run_limited
from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.settings import Settings


def _median_s(call: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    settings = Settings()
    # as the server sets them; this script imports no more than the `iris` entry point, since
    # each child re-runs the main script
    limits = Limits(settings.ingest_memory_bytes, settings.ingest_cpu_seconds)
    with tempfile.TemporaryDirectory() as tmp:
        for shape in ((48, 40, 24), (256, 256, 200)):
            path = write_nifti(make_phantom(shape=shape, spacing=(1.5, 1.5, 1.5)).ct,
                               Path(tmp) / f"ct_{shape[2]}.nii.gz")
            run_limited(inspect, path, None, settings, limits=limits)  # starts the forkserver
            direct = _median_s(lambda p=path: inspect(p, None, settings), repeats)
            limited = _median_s(
                lambda p=path: run_limited(inspect, p, None, settings, limits=limits), repeats)
            print(f"{'x'.join(map(str, shape)):>12}: in-process {direct * 1000:7.1f} ms, "
                  f"limited child {limited * 1000:7.1f} ms, +{(limited - direct) * 1000:.1f} ms "
                  f"per upload (ratio {limited / direct:.2f})")


if __name__ == "__main__":
    main()
