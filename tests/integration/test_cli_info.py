"""`iris info` run as a user runs it: a real process, its output and its exit status."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_itk, write_nifti


def run_iris(*args: str) -> subprocess.CompletedProcess[str]:
    iris = Path(sys.executable).with_name("iris")
    return subprocess.run(
        [str(iris), *args], capture_output=True, text=True, check=False, timeout=120)


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


def test_info_on_nrrd_and_mha(small_phantom: Phantom, tmp_path: Path) -> None:
    for name in ("ct.nrrd", "ct.mha"):
        result = run_iris("info", str(write_itk(small_phantom.ct, tmp_path / name)))
        assert result.returncode == 0, result.stderr
        assert "48x40x24" in result.stdout


def test_info_on_a_dicom_folder_and_zip_with_two_series(
    small_phantom: Phantom, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    write_dicom_series(small_phantom.ct, study / "a", series_uid="1.2.3.4.1",
                       series_description="Abdomen 8mm")
    write_dicom_series(small_phantom.ct, study / "b", series_uid="1.2.3.4.2",
                       series_description="Scout", image_type=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    archive = Path(shutil.make_archive(str(tmp_path / "study"), "zip", study))
    for path in (study, archive):
        result = run_iris("info", str(path))
        assert result.returncode == 0, result.stderr
        assert "1.2.3.4.1" in result.stdout and "Abdomen 8mm" in result.stdout
        assert "chosen series 1.2.3.4.1" in result.stdout
        assert "48x40x24" in result.stdout


def test_info_with_an_unknown_series(small_phantom: Phantom, tmp_path: Path) -> None:
    write_dicom_series(small_phantom.ct, tmp_path / "s", series_uid="1.2.3.9")
    result = run_iris("info", str(tmp_path / "s"), "--series", "9.9.9")
    assert result.returncode == 2
    assert "1.2.3.9" in result.stderr and "Traceback" not in result.stderr
