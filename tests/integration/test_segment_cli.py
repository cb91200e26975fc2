"""`iris segment` run as a user runs it: a real process, real files, its output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.imageio import read_label_map, write_label_map
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti
from iris3d.segment import Quality

LIMITS = ReadLimits.defaults()


def run_iris(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``iris`` with TotalSegmentator's home in ``home`` (no weights unless a test puts some)."""
    iris = Path(sys.executable).with_name("iris")
    env = {**os.environ, "TOTALSEG_HOME_DIR": str(home), "COLUMNS": "200"}
    env.pop("TOTALSEG_WEIGHTS_PATH", None)
    return subprocess.run([str(iris), *args], capture_output=True, text=True, timeout=300,
                          env=env, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "totalseg-home"
    path.mkdir()
    return path


def test_tissue_engine_writes_label_map_and_sidecar(
    small_phantom: Phantom, tmp_path: Path, home: Path
) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz", "LPS")
    out = tmp_path / "out" / "seg.nii.gz"
    result = run_iris("segment", str(ct), "-o", str(out), "--engine", "tissue", home=home)
    assert result.returncode == 0, result.stderr
    assert "tissue" in result.stdout and "100%" in result.stdout
    labels = read_label_map(out, max_voxels=LIMITS.max_voxels)
    assert labels.matches(small_phantom.ct)  # back in RAS, on the CT's grid
    sidecar = json.loads((tmp_path / "out" / "seg.json").read_text())
    names = {row["name"] for row in sidecar["labels"]}
    assert {"lung_left", "lung_right", "skeleton", "body"} <= names
    assert sidecar["segmentation"]["engine"] == "tissue"
    header = nib.load(out).header.extensions[0].get_content()
    assert b"<![CDATA[lung_left]]>" in header


def test_auto_without_weights_says_it_used_the_tissue_engine(
    small_phantom: Phantom, tmp_path: Path, home: Path
) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    out = tmp_path / "seg.nii.gz"
    result = run_iris("segment", str(ct), "-o", str(out), "--quality", "fast", home=home)
    assert result.returncode == 0, result.stderr
    assert "models for 'fast' quality are not installed" in result.stdout
    assert "iris models install" in result.stdout  # the command line says how
    about = json.loads((tmp_path / "seg.json").read_text())["segmentation"]
    assert about["engine"] == "tissue" and "not installed" in about["reason"]
    assert "iris models" not in about["reason"]  # what the web app shows its users


def test_several_inputs_share_one_engine_into_a_folder(tmp_path: Path, home: Path) -> None:
    """Two studies, one a DICOM series; auto finds tiny TotalSegmentator weights for 'fastest'."""
    build_tiny_weights(home / "nnunet" / "results", qualities=(Quality.FASTEST,))
    phantom = make_phantom(shape=(40, 32, 20), spacing=(8.0, 8.0, 8.0))
    nifti = write_nifti(phantom.ct, tmp_path / "first.nii.gz")
    dicom = tmp_path / "second"
    write_dicom_series(phantom.ct, dicom, seed=2)
    out = tmp_path / "segs"
    result = run_iris("segment", str(nifti), str(dicom), "-o", str(out), "--quality", "fastest",
                      home=home)
    assert result.returncode == 0, result.stderr
    first = read_label_map(out / "first_seg.nii.gz", max_voxels=LIMITS.max_voxels)
    second = read_label_map(out / "second_seg.nii.gz", max_voxels=LIMITS.max_voxels)
    assert np.array_equal(first.array, second.array)
    assert result.stdout.count("wrote") == 2
    assert result.stdout.count("totalsegmentator") == 2
    assert json.loads((out / "second_seg.json").read_text())["segmentation"]["engine"] == (
        "totalsegmentator"
    )


def test_import_a_segmentation(small_phantom: Phantom, tmp_path: Path, home: Path) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    mine, _ = write_label_map(small_phantom.labels, tmp_path / "mine" / "labels.nii.gz")
    out = tmp_path / "seg.nii.gz"
    result = run_iris("segment", str(ct), "-o", str(out), "--segmentation", str(mine), home=home)
    assert result.returncode == 0, result.stderr
    back = read_label_map(out, max_voxels=LIMITS.max_voxels)
    assert np.array_equal(back.array, small_phantom.labels.array)
    assert "imported from labels.nii.gz" in result.stdout


def test_mismatched_segmentation_is_a_message_not_a_traceback(
    small_phantom: Phantom, tmp_path: Path, home: Path
) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    elsewhere = small_phantom.labels.affine.copy()
    elsewhere[:3, 3] += 1000.0
    path = tmp_path / "other.nii.gz"
    nib.save(nib.Nifti1Image(small_phantom.labels.array, elsewhere), str(path))
    result = run_iris("segment", str(ct), "-o", str(tmp_path / "seg.nii.gz"), "--engine",
                      "import", "--segmentation", str(path), home=home)
    assert result.returncode == 2
    assert "does not match the CT" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_messages(small_phantom: Phantom, tmp_path: Path, home: Path) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    wrong_engine = run_iris("segment", str(ct), "-o", str(tmp_path / "s.nii.gz"), "--engine",
                            "magic", home=home)
    assert wrong_engine.returncode == 2 and "unknown segmentation engine" in wrong_engine.stderr
    two_into_one = run_iris("segment", str(ct), str(ct), "-o", str(tmp_path / "s.nii.gz"),
                            home=home)
    assert two_into_one.returncode == 2 and "give -o a folder" in two_into_one.stderr
