"""Comparison benchmark: what comparing two studies costs, against processing one of them.

Run: ``.venv/bin/python benchmarks/compare_bench.py [--shape 256 256 200] [--spacing 1.5 1.5 2]``

A phantom and its follow-up (liver grown 20 %, left kidney removed, the patient turned
(3, -2, 4) degrees and shifted (8, -5, 12) mm) are each processed with the ``import`` engine
(ingest, mesh, export, stats: everything a study job does but the model), then compared. Printed:
(a) seconds to process one study (the baseline, measured here in the same process);
(b) seconds to compare them, by stage (ingest, register, compare, export);
(c) ratio b / a; (d) peak memory of each (max RSS of the forked process that ran it);
(e) accuracy: the liver's change against the truth, the registration's rotation and point error.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from iris3d.contracts import EngineName
from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.phantom.pair import make_follow_up
from iris3d.pipeline import ProcessOptions, compare_studies, process_study


def _in_child(task: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``task`` in a forked process: (its result, seconds, peak RSS in MiB)."""
    context = mp.get_context("fork")
    queue = context.Queue()

    def run() -> None:
        started = time.perf_counter()
        result = task()
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put((result, seconds, peak))

    process = context.Process(target=run)
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode:
        sys.exit(f"the benchmark's child process failed ({process.exitcode})")
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(256, 256, 200))
    parser.add_argument("--spacing", type=float, nargs=3, default=(1.5, 1.5, 2.0))
    args = parser.parse_args()
    shape, spacing = tuple(args.shape), tuple(args.spacing)

    started = time.perf_counter()
    base = make_phantom(shape=shape, spacing=spacing, noise_hu=10.0)
    follow = make_follow_up(base, grow={"liver": 1.20}, remove=["kidney_left"],
                            rotation_deg=(3.0, -2.0, 4.0), shift_mm=(8.0, -5.0, 12.0))
    print(f"case: phantom {shape} at {spacing} mm and its follow-up "
          f"({time.perf_counter() - started:.1f} s to build)")

    with tempfile.TemporaryDirectory(prefix="iris-compare-bench-") as tmp:
        root = Path(tmp)
        folders = {}
        for name, phantom in (("base", base), ("follow", follow)):
            ct = write_nifti(phantom.ct, root / f"{name}.nii.gz")
            labels = write_nifti(phantom.labels, root / f"{name}_labels.nii.gz")
            options = ProcessOptions(engine=EngineName.IMPORT, segmentation=labels)
            folders[name] = root / f"{name}_out"
            _, seconds, peak = _in_child(
                lambda ct=ct, options=options, out=folders[name]: bool(
                    process_study(ct, out, options=options)))
            if name == "base":
                process_s, process_peak = seconds, peak
            print(f"(a) process {name:<6} {seconds:7.2f} s  peak {peak:7.0f} MiB")

        result, compare_s, compare_peak = _in_child(lambda: compare_studies(
            folders["base"], folders["follow"], root / "comparison").summary)
        document = json.loads((root / "comparison" / "comparison.json").read_text())

    timings = document["timings_s"]
    stages = "  ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    print(f"(b) compare       {compare_s:7.2f} s  peak {compare_peak:7.0f} MiB  ({stages})")
    print(f"(c) compare / process one study: {compare_s / process_s:.2f}x "
          f"(peak memory {compare_peak / process_peak:.2f}x)")

    rows = {row["name"]: row for row in document["structures"]}
    truth = follow.truth["liver"].volume_ml / base.truth["liver"].volume_ml - 1
    liver = rows["liver"]
    print(f"(e) liver change {liver['change_percent']:+.2f} % (set +20 %, voxel truth "
          f"{100 * truth:+.2f} %); kidney_left {rows['kidney_left']['status']}; "
          f"alignment {result['alignment']} (median Dice {result['median_dice']:.3f})")
    found = np.asarray(document["registration"]["matrix_follow_to_base_ras"])
    error = found @ follow.base_to_follow
    angle = np.degrees(np.arccos(np.clip((np.trace(error[:3, :3]) - 1) / 2, -1.0, 1.0)))
    corners = np.array([[x, y, z, 1.0] for x in (-150, 150) for y in (-150, 150)
                        for z in (0, 300)])
    moved = (error @ corners.T).T[:, :3] - corners[:, :3]
    print(f"    registration error: rotation {angle:.3f} deg, corners of a 30 cm box moved "
          f"<= {np.linalg.norm(moved, axis=1).max():.2f} mm; liver surface moved "
          f"{liver['distance_mm']['mean']:+.2f} mm on average (p95 "
          f"{liver['distance_mm']['p95']:+.2f} mm)")


if __name__ == "__main__":
    main()
