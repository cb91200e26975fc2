"""The fuzz harnesses run in CI for a short budget each, and every crasher ever found stays fixed.

Longer runs: ``scripts/fuzz.sh SECONDS``. A crash is any exception from a reader other than
Iris's own ``IrisError``; libFuzzer then exits non-zero and saves the input.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "fuzz"
REGRESSIONS = ROOT / "tests" / "fuzz_regressions"
SECONDS = 25  # one process fuzzes every reader: its first byte picks the target

sys.path.insert(0, str(FUZZ))
atheris = pytest.importorskip("atheris")
from targets import TARGETS, run_target  # noqa: E402


@pytest.mark.slow
def test_every_reader_is_fuzzed_briefly(tmp_path: Path) -> None:
    fuzz = [sys.executable, str(FUZZ / "iris_fuzz.py"), "all", f"-max_total_time={SECONDS}",
            "-rss_limit_mb=2048", "-timeout=20", f"-artifact_prefix={tmp_path}/",
            str(tmp_path / "corpus")]
    # Through a small relay process: Linux carries a parent's peak RSS into a child it forks and
    # execs (ru_maxrss), which libFuzzer's limit reads. Started straight from this pytest process,
    # late in the full suite when it holds over 2 GB, the fuzzer was "out of memory" at once.
    relay = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", relay, *fuzz], capture_output=True, text=True,
                            timeout=180, check=False)
    found = sorted(p.name for p in tmp_path.glob("*-*") if p.is_file())
    # libFuzzer's "INFO: Seed: N" comes first: with it, -seed=N replays the run.
    seed = next((line for line in result.stderr.splitlines() if "Seed:" in line), "no seed")
    assert result.returncode == 0 and not found, f"{seed}\n{result.stderr[-4000:]}"
    assert "Done" in result.stderr  # it really ran
    seeds = {p.name.split("-")[1] for p in (tmp_path / "corpus").glob("seed-*")}
    assert seeds == set(TARGETS)  # every reader was seeded


@pytest.mark.parametrize(
    "case", sorted(REGRESSIONS.glob("*/*")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_found_crashers_are_refused_cleanly(case: Path) -> None:
    run_target(case.parent.name, case.read_bytes())  # raises if anything but IrisError escapes
