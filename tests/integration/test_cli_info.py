"""`iris info` run as a user runs it: a real process, its output and its exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from iris3d.phantom import Phantom
from iris3d.phantom.files import write_nifti


def run_iris(*args: str) -> subprocess.CompletedProcess[str]:
    iris = Path(sys.executable).with_name("iris")
    return subprocess.run([str(iris), *args], capture_output=True, text=True, timeout=120)


def test_help_lists_the_commands() -> None:
    result = run_iris("--help")
    assert result.returncode == 0
    assert "info" in result.stdout


def test_info_on_a_nifti_phantom(small_phantom: Phantom, tmp_path: Path) -> None:
    path = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz", "LPS")
    result = run_iris("info", str(path))
    assert result.returncode == 0, result.stderr
    assert "nifti" in result.stdout
    assert "48x40x24" in result.stdout
    assert "8.000 x 8.000 x 8.000 mm" in result.stdout
    assert "-1000 .. 700" in result.stdout


def test_info_on_bad_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "scan.bin"
    path.write_bytes(b"\x01\x02" * 300)
    result = run_iris("info", str(path))
    assert result.returncode == 2
    assert "not a file Iris reads" in result.stderr
    assert "Traceback" not in result.stderr
