"""TotalSegmentator at full size: Iris's warm engine vs TotalSegmentator's own API, same run.

Each contender runs in its own process (so peak RAM is its own: the parent samples the RSS of
that process and its children every 50 ms) on the same synthetic CT, twice (first study: models
loaded; second: warm for Iris, again from scratch for TotalSegmentator's API). Reported per
contender: wall seconds per study, peak RAM, peak GPU memory (torch's allocator), and the voxel
agreement of its labels with TotalSegmentator's (all voxels, and voxels either calls foreground).

Weights: an installed TotalSegmentator weights folder (``--weights``; the full-size stand-in from
benchmarks/make_totalseg_standin.py, or real ones). Results as JSON with ``--json``.

    .venv/bin/python benchmarks/totalseg_full_bench.py --weights /tmp/standin/results \\
        --quality fast --shape 512 512 400 --device cpu --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

SPACING = (0.8, 0.8, 1.0)  # mm: a typical thorax-abdomen CT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--quality", nargs="+", default=["fast"])
    parser.add_argument("--shape", type=int, nargs=3, action="append")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", nargs="+", default=["auto"],
                        help="Iris precisions, e.g. auto fp32/b2 auto@torch")
    parser.add_argument("--no-baseline", action="store_true", help="skip TotalSegmentator's API")
    parser.add_argument("--baseline-first", action="store_true", help="run the API first")
    parser.add_argument("--studies", type=int, default=2, help="studies per Iris engine")
    parser.add_argument("--baseline-studies", type=int, default=2, help="calls of the API")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--ct", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    shapes = [tuple(s) for s in (args.shape or [[512, 512, 400]])]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="iris-tsbench-") as tmp:
        for shape in shapes:
            ct = Path(tmp) / f"ct_{'x'.join(map(str, shape))}.npz"
            write_ct(ct, shape)
            for quality in args.quality:
                compare(args, ct, shape, quality, Path(tmp), results)


def write_ct(path: Path, shape: tuple[int, int, int]) -> None:
    """A torso phantom: built at half resolution and repeated (building it at full size takes a
    minute per 400 slices), then given full-resolution noise; CTs longer than 400 slices repeat
    a mirrored copy of the first 400 along z (a longer body, structures and all)."""
    from iris3d.phantom import make_phantom

    started = time.perf_counter()
    rows, cols, slices = shape
    block = min(slices, 400)
    half = (rows // 2, cols // 2, block // 2)
    coarse = make_phantom(half, tuple(2 * s for s in SPACING), seed=1).ct  # type: ignore[arg-type]
    array: np.ndarray = np.asarray(coarse.array, dtype=np.int16)
    for axis in range(3):
        array = np.repeat(array, 2, axis=axis)
    pieces = [array if i % 2 == 0 else array[:, :, ::-1] for i in range(-(-slices // block))]
    array = np.concatenate(pieces, axis=2)[:rows, :cols, :slices]
    # Uniform noise of 20 HU standard deviation: a normal draw of this many voxels takes long.
    array += np.random.default_rng(1).integers(-35, 36, array.shape, dtype=np.int16)
    affine = np.diag([*SPACING, 1.0])
    affine[:3, 3] = -np.array(array.shape) * np.array(SPACING) / 2
    np.savez(path, array=array, affine=affine)
    print(f"CT {shape} at {SPACING} mm built in {time.perf_counter() - started:.1f} s", flush=True)


def compare(
    args: argparse.Namespace,
    ct: Path,
    shape: tuple[int, ...],
    quality: str,
    tmp: Path,
    results: list[dict[str, Any]],
) -> None:
    """Run every contender on ``ct``; rows go into ``results`` (and the JSON) as they finish."""
    contenders = [f"iris:{v}" for v in args.variants]
    if not args.no_baseline:
        contenders.insert(0 if args.baseline_first else len(contenders), "totalsegmentator")
    rows: list[dict[str, Any]] = []

    def save() -> None:  # what is done so far survives a later failure or timeout
        if args.json:
            args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")

    for name in contenders:
        out = tmp / f"{_slug(name)}_{quality}"
        out.mkdir(exist_ok=True)
        row = run_worker(args, name, ct, quality, out)
        row.update({"shape": list(shape), "spacing_mm": list(SPACING), "quality": quality})
        rows.append(row)
        results.append(row)
        save()
        print(json.dumps(row), flush=True)
    baseline = tmp / f"totalsegmentator_{quality}" / "labels.npy"
    if baseline.exists():
        reference = np.load(baseline)
        for row in rows:
            if row["contender"] != "totalsegmentator" and row.get("ok"):
                labels = np.load(tmp / f"{_slug(row['contender'])}_{quality}/labels.npy")
                row["agreement"] = agreement(labels, reference)
        base = next(r for r in rows if r["contender"] == "totalsegmentator")
        for row in rows:
            if row.get("ok") and base.get("ok"):
                row["speedup_second_study"] = base["seconds"][-1] / row["seconds"][-1]
        save()
        print(json.dumps({"quality": quality, "shape": list(shape), "summary": rows}), flush=True)


def _slug(name: str) -> str:
    return name.replace(":", "_").replace("/", "_")


def agreement(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    foreground = (ours != 0) | (theirs != 0)
    same = ours == theirs
    return {
        "all_voxels": float(same.mean()),
        "foreground_voxels": float(same[foreground].mean()) if foreground.any() else 1.0,
        "labels_ours": len(np.unique(ours)),
        "labels_theirs": len(np.unique(theirs)),
    }


def run_worker(
    args: argparse.Namespace, name: str, ct: Path, quality: str, out: Path
) -> dict[str, Any]:
    import psutil

    command = [sys.executable, __file__, "--worker", name, "--weights", str(args.weights)]
    command += ["--ct", str(ct), "--out", str(out), "--device", args.device]
    studies = args.baseline_studies if name == "totalsegmentator" else args.studies
    command += ["--quality", quality, "--studies", str(studies)]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command)

    def stop(signum: int, frame: object) -> None:  # cut short: end the worker's whole tree too
        for child in [*psutil.Process(process.pid).children(recursive=True), process]:
            with contextlib.suppress(psutil.Error, OSError):
                child.kill()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    peak = [0]

    def sample() -> None:
        parent = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                total = sum(p.memory_info().rss for p in tree if p.is_running())
            except psutil.Error:
                continue
            peak[0] = max(peak[0], total)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    sampler.join()
    row: dict[str, Any] = {"contender": name, "ok": code == 0, "exit_code": code}
    report = out / "report.json"
    if report.exists():
        row.update(json.loads(report.read_text(encoding="utf-8")))
    row["peak_ram_gib"] = peak[0] / 2**30
    row["process_seconds"] = time.perf_counter() - started
    # CPU seconds of the worker's tree (waited-for children included): on a machine shared with
    # other work, a program with more processes gets more of the CPUs, and this does not move.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return row


def worker(args: argparse.Namespace) -> None:
    os.environ["TOTALSEG_WEIGHTS_PATH"] = str(args.weights)
    os.environ.setdefault("TOTALSEG_HOME_DIR", str(args.out / "home"))
    import nibabel as nib
    import torch

    from iris3d.segment.totalseg.config import disable_usage_stats

    disable_usage_stats()
    loaded = np.load(args.ct)
    array, affine = loaded["array"], loaded["affine"]
    quality = args.quality[0]
    cuda = args.device.startswith("cuda")
    seconds: list[float] = []
    labels: np.ndarray | None = None
    report: dict[str, Any] = {}
    if args.worker == "totalsegmentator":
        from totalsegmentator.python_api import totalsegmentator

        from iris3d.segment.totalseg.predictor import register_trainers_with_totalsegmentator

        register_trainers_with_totalsegmentator()
        options = {"fast": quality == "fast", "fastest": quality == "fastest"}
        for _ in range(args.studies):
            started = time.perf_counter()
            image = totalsegmentator(
                nib.Nifti1Image(array, affine),
                None,
                ml=True,
                device="gpu" if cuda else "cpu",
                quiet=True,
                **options,
            )
            labels = np.asanyarray(image.dataobj).astype(np.uint8)
            if cuda:
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - started)
    else:
        from iris3d.segment.totalseg import TotalSegmentatorEngine
        from iris3d.segment.totalseg.options import InferenceOptions
        from iris3d.segment.totalseg.predictor import PredictorCache
        from iris3d.volume import CTVolume

        # A variant: a precision, or nnU-Net's own path ("nnunet"); "/bN": N tiles per pass;
        # "@torch" / "@openvino": what runs the network on the CPU (default: Iris's choice).
        variant, _, runtime = args.worker.split(":", 1)[1].partition("@")
        precision, _, batch = variant.partition("/b")
        inference = (
            None
            if precision == "nnunet"
            else InferenceOptions(precision=precision, batch_tiles=int(batch or 0),
                                  cpu_runtime=runtime or "auto")
        )
        engine = TotalSegmentatorEngine(args.device, cache=PredictorCache(), inference=inference)
        volume = CTVolume(array, affine)
        for _ in range(args.studies):
            started = time.perf_counter()
            result = engine.segment(volume, quality)
            if cuda:
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - started)
            labels = np.asarray(result.labels.array)
            report.setdefault("timings_s", []).append(result.timings_s)
    report["seconds"] = seconds
    report["torch"] = torch.__version__
    if cuda:
        report["gpu"] = torch.cuda.get_device_name()
        report["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2**30
        report["peak_gpu_reserved_gib"] = torch.cuda.max_memory_reserved() / 2**30
    assert labels is not None
    np.save(args.out / "labels.npy", labels)
    (args.out / "report.json").write_text(json.dumps(report), encoding="utf-8")


if __name__ == "__main__":
    main()
