"""Whole-process benchmark: what a user waits for, from the command to the output folder.

Run: ``.venv/bin/python benchmarks/process_bench.py [--quick] [--cases abcd] [--naive-labels N]``

Every figure is a separate process started from here, timed from its start to its output (the
folder's appearance for ``iris process``), with the peak resident memory of its whole process
tree (polled from /proc every 20 ms). All in one run, on the same files (``process_data.py``
makes them once and caches them in the temp folder):

a. ``iris process CT --segmentation SEG`` on TotalSegmentator output upsampled (nearest) to
   512x512x400; b. the same on a label map at its own resolution (the phantom); against
   - naive: read the labels, then per label a whole-volume mask, skimage marching cubes and a
     trimesh OBJ file (``--naive-labels N`` runs N labels and scales to all);
   - read floor: decompress the CT and the labels (nibabel) and one ``np.bincount`` pass;
c. ``iris process CT --engine tissue`` on the phantom's CT (goal <= 15 s);
d. the service: a real ``iris serve`` with one warm worker; upload the CT and the labels of
   case a, start a job, wait for ``done`` and list its artifacts; against the CLI's case a.
``--quick`` uses a 256x256x200 grid (seconds, for iterating; the goals are for full size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from process_data import Case, cases
from process_service import service_run

FULL = (512, 512, 400)
QUICK = (256, 256, 200)
PYTHON = sys.executable
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") / 1024


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float
    detail: str = ""
    cpu_seconds: float = 0.0  # user + system of the process and its children


def tree_rss_kib(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with Path(f"/proc/{entry.name}/stat").open() as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE_KIB
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def timed(command: list[str], done: Callable[[], bool] | None = None) -> Run:
    """Run ``command``; seconds until ``done()`` (else until it exits) and the tree's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak, finished = 0.0, None
    while process.poll() is None:
        peak = max(peak, tree_rss_kib(process.pid))
        if finished is None and done is not None and done():
            finished = time.perf_counter() - started
        time.sleep(0.02)
    exited = time.perf_counter() - started
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({process.returncode}):\n{output[-3000:]}")
    if done is not None and finished is None:
        finished = exited if done() else None
    if finished is None:
        finished = exited
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    last = output.strip().splitlines()[-1] if output.strip() else ""
    return Run(finished, peak / 1024, last, cpu)


def iris_process(case: Case, out: Path, extra: list[str]) -> Run:
    command = [PYTHON, "-c", "from iris3d.cli.app import main; main()", "process", str(case.ct),
               "-o", str(out), *extra]
    run = timed(command, done=(out / "manifest.json").exists)
    manifest = json.loads((out / "manifest.json").read_text())
    timings = manifest["timings_s"]
    detail = f"{len(manifest['structures'])} structures; stages " + " ".join(
        f"{k} {v:.1f}" for k, v in timings.items()) + f" (sum {sum(timings.values()):.1f} s)"
    return Run(run.seconds, run.peak_mib, detail, run.cpu_seconds)


def helper(mode: str, *paths: Path, extra: list[str] | None = None) -> Run:
    here = Path(__file__).resolve().parent / "process_baselines.py"
    return timed([PYTHON, str(here), mode, *map(str, paths), *(extra or [])])


def decoded_mib(case: Case) -> float:
    import nibabel as nib

    total = 0
    for path in (case.ct, case.labels):
        if path is not None:
            header = cast("nib.Nifti1Header", nib.load(str(path)).header)
            total += int(np.prod(header.get_data_shape())) * header.get_data_dtype().itemsize
    return total / 2**20


def ratio_line(name: str, value: float, goal: str) -> str:
    note = f"goal {goal}" if goal.startswith(("<", ">")) else goal
    return f"    {name:<34} {value:8.2f}x   {note}"


def row(name: str, run: Run, extra: str = "") -> str:
    return (f"  {name:<29}{run.seconds:8.2f} s wall {run.cpu_seconds:8.2f} s cpu  peak "
            f"{run.peak_mib:6.0f} MiB  {extra}").rstrip()


def segmentation_case(case: Case, work: Path, args: argparse.Namespace) -> None:
    assert case.labels is not None
    floor = helper("floor", case.ct, case.labels)
    run = iris_process(case, work / f"out_{case.name}", ["--segmentation", str(case.labels)])
    limit = ["--limit", str(args.naive_labels)] if args.naive_labels else []
    naive = None if args.skip_naive else helper("naive", case.labels, work / f"naive_{case.name}",
                                                extra=limit)
    decoded = decoded_mib(case)
    print(f"\ncase {case.name}: {case.about}; CT {case.ct.stat().st_size / 1e6:.0f} MB + labels "
          f"{case.labels.stat().st_size / 1e6:.1f} MB on disk, {decoded:.0f} MiB decoded")
    print(row("iris process --segmentation", run, f"[{run.detail}]"))
    print(row("read floor", floor))
    if naive is not None:
        print(row("naive (mask+MC+OBJ)", naive, f"[{naive.detail}]"))
        scale = _naive_scale(naive.detail)
        if scale != 1.0:
            print(f"    naive scaled to all labels {naive.seconds * scale:8.2f} s wall "
                  f"{naive.cpu_seconds * scale:8.2f} s cpu")
        goal = ">= 20x" if case.name == "a" else ">= 12x"
        print(ratio_line("naive / iris (wall)", naive.seconds * scale / run.seconds, goal))
        print(ratio_line("naive / iris (cpu)", naive.cpu_seconds * scale / run.cpu_seconds,
                         "(steadier on a shared machine)"))
    print(ratio_line("iris / read floor (wall)", run.seconds / floor.seconds, "<= 8x"))
    print(ratio_line("iris / read floor (cpu)", run.cpu_seconds / floor.cpu_seconds, ""))
    print(ratio_line("peak RSS / decoded CT+labels", run.peak_mib / decoded, "<= 3x"))


def _naive_scale(detail: str) -> float:
    """The naive helper prints ``meshed M of N labels``: scale its time to all N."""
    words = detail.split()
    if "meshed" in words:
        meshed, total = int(words[words.index("meshed") + 1]), int(words[words.index("of") + 1])
        return total / max(meshed, 1)
    return 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK} grid instead of {FULL}")
    parser.add_argument("--cases", default="abcd", help="which of a, b, c, d to run")
    parser.add_argument("--naive-labels", type=int, default=None,
                        help="naive baseline on the first N labels only, scaled to all")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    shape = QUICK if args.quick else FULL
    print(f"preparing the cases at {shape} (cached) ...", flush=True)
    data = cases(shape)
    print(f"{os.cpu_count()} CPUs; every row below is a process started by this run")
    with tempfile.TemporaryDirectory(prefix="iris-process-bench-") as tmp:
        work = Path(tmp)
        for name in "ab":
            if name in args.cases:
                segmentation_case(data[name], work, args)
        if "d" in args.cases:
            case = data["a"]
            assert case.labels is not None
            # The CLI again, right before the service: the same load on the machine for both.
            cli_a = iris_process(case, work / "out_d_cli", ["--segmentation", str(case.labels)])
            seconds, detail = service_run(case, work / "service")
            print(f"\ncase d: the service on case a's files ({detail})")
            print(f"  upload -> job done -> artifacts {seconds:8.2f} s  "
                  f"(CLI {cli_a.seconds:.2f} s)")
            print(ratio_line("service / CLI", seconds / cli_a.seconds, "<= 1.3x"))
        if "c" in args.cases:
            case = data["c"]
            floor = helper("floor", case.ct)
            run = iris_process(case, work / "out_c", ["--engine", "tissue"])
            print(f"\ncase c: {case.about}")
            print(row("iris process --engine tissue", run, f"[{run.detail}]"))
            print(f"    goal <= 15 s wall at {FULL}")
            print(row("read floor (CT only)", floor))


if __name__ == "__main__":
    main()
