"""Warm TotalSegmentator engine vs TotalSegmentator's own API: time per study.

Prints the first and second study's time through :class:`TotalSegmentatorEngine` (the first loads
the networks, the second reuses them) and, as the baseline in the same process, two calls of
``totalsegmentator.python_api.totalsegmentator`` on the same CTs, each paying its per-call cost
(building the predictor, temporary files, worker processes). Also checks that both give the same
labels. By default it builds the tiny test model, so the figures are the fixed cost, not the
network's; ``--weights`` points it at real installed weights instead.

    .venv/bin/python benchmarks/totalseg_warm_bench.py [--quality fast] [--shape 80 80 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", default="fast", choices=["fastest", "fast", "normal"])
    parser.add_argument("--shape", type=int, nargs=3, default=[80, 80, 64])
    parser.add_argument("--spacing", type=float, nargs=3, default=[3.0, 3.0, 3.0])
    parser.add_argument("--weights", type=Path, help="installed weights (default: a tiny model)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="iris-bench-") as tmp:
        os.environ["TOTALSEG_HOME_DIR"] = str(Path(tmp) / "home")
        if args.weights:
            os.environ["TOTALSEG_WEIGHTS_PATH"] = str(args.weights)
        else:
            sys.path.insert(0, str(REPO))
            from tests.support.tiny_totalseg import build_tiny_weights

            os.environ.pop("TOTALSEG_WEIGHTS_PATH", None)
            build_tiny_weights(Path(tmp) / "home" / "nnunet" / "results")
        run(args)


def run(args: argparse.Namespace) -> None:
    from iris3d.contracts import Quality
    from iris3d.phantom import make_phantom
    from iris3d.segment.totalseg import TotalSegmentatorEngine
    from iris3d.segment.totalseg.config import disable_usage_stats
    from iris3d.segment.totalseg.predictor import (
        PredictorCache,
        register_trainers_with_totalsegmentator,
    )

    quality = Quality(args.quality)
    shape, spacing = tuple(args.shape), tuple(args.spacing)
    studies = [make_phantom(shape, spacing, noise_hu=10.0, seed=seed).ct for seed in (1, 2)]
    print(f"quality {quality}, CT {shape} at {spacing} mm, device {args.device}")

    engine = TotalSegmentatorEngine(device=args.device, cache=PredictorCache())
    ours = []
    for n, ct in enumerate(studies, start=1):
        started = time.perf_counter()
        result = engine.segment(ct, quality)
        ours.append(result)
        elapsed = time.perf_counter() - started
        steps = ", ".join(f"{k} {v:.2f}" for k, v in result.timings_s.items())
        print(f"iris warm engine, study {n}: {elapsed:6.2f} s  ({steps})")

    disable_usage_stats()
    register_trainers_with_totalsegmentator()
    from totalsegmentator.python_api import totalsegmentator

    options = {"fast": quality == Quality.FAST, "fastest": quality == Quality.FASTEST}
    device = "gpu" if args.device.startswith("cuda") else "cpu"
    baseline = []
    for n, ct in enumerate(studies, start=1):
        started = time.perf_counter()
        image = totalsegmentator(
            nib.Nifti1Image(ct.array, ct.affine),
            None,
            ml=True,
            device=device,
            quiet=True,
            **options,
        )
        baseline.append(time.perf_counter() - started)
        same = np.array_equal(np.asanyarray(image.dataobj), ours[n - 1].labels.array)
        print(f"TotalSegmentator API, study {n}: {baseline[-1]:6.2f} s  (same labels: {same})")

    warm = ours[1].timings_s["total"]
    print(
        f"second study: {warm:.2f} s warm vs {baseline[1]:.2f} s per API call "
        f"-> {baseline[1] / warm:.1f}x faster; first study (loading): "
        f"{ours[0].timings_s['total']:.2f} s"
    )


if __name__ == "__main__":
    main()
