"""`iris segment` run as a user runs it: a real process, real files, its output and exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from tests.support.tiny_totalseg import build_tiny_weights

from iris3d.contracts import Quality
from iris3d.imageio import read_label_map, write_label_map
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti

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
    assert wrong_engine.returncode == 2 and "'magic' is not one of" in wrong_engine.stderr
    two_into_one = run_iris("segment", str(ct), str(ct), "-o", str(tmp_path / "s.nii.gz"),
                            home=home)
    assert two_into_one.returncode == 2 and "give -o a folder" in two_into_one.stderr


@pytest.mark.parametrize("orientation", ["LPS", "PIL"])
def test_the_label_map_lines_up_with_the_input_file(
    small_phantom: Phantom, tmp_path: Path, home: Path, orientation: str
) -> None:
    """As TotalSegmentator writes it: the input's own voxel order and affine, not RAS."""
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz", orientation)
    truth = write_nifti(small_phantom.labels, tmp_path / "truth.nii.gz", orientation)
    out = tmp_path / "seg.nii.gz"
    result = run_iris("segment", str(ct), "-o", str(out), "--segmentation", str(truth), home=home)
    assert result.returncode == 0, result.stderr
    given, written = nib.load(ct), nib.load(out)
    assert written.shape == given.shape
    assert np.array_equal(written.affine, given.affine)
    assert nib.aff2axcodes(written.affine) == tuple(orientation)
    labels = np.asarray(written.dataobj)
    kidney = small_phantom.labels.table.by_name("kidney_left").label
    expected = np.asarray(nib.load(truth).dataobj) == kidney
    assert expected.any() and np.array_equal(labels == kidney, expected)
    assert np.array_equal(labels, np.asarray(nib.load(truth).dataobj))


def test_the_tissue_engine_puts_the_left_lung_on_the_left_of_an_lps_file(
    small_phantom: Phantom, tmp_path: Path, home: Path
) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz", "LPS")
    out = tmp_path / "seg.nii.gz"
    result = run_iris("segment", str(ct), "-o", str(out), "--engine", "tissue", home=home)
    assert result.returncode == 0, result.stderr
    labels = np.asarray(nib.load(out).dataobj)
    table = json.loads((tmp_path / "seg.json").read_text())["labels"]
    ids = {row["name"]: row["id"] for row in table}
    middle = labels.shape[0] / 2  # i runs towards the patient's left in an LPS file
    assert np.argwhere(labels == ids["lung_left"])[:, 0].mean() > middle
    assert np.argwhere(labels == ids["lung_right"])[:, 0].mean() < middle


def test_a_dicom_series_is_labelled_in_its_own_image_order(
    small_phantom: Phantom, tmp_path: Path, home: Path
) -> None:
    """Columns, rows and slices as the files store them: voxel (0, 0, 0) is the first pixel of
    the lowest slice, i runs along the rows' direction (ImageOrientationPatient)."""
    paths = write_dicom_series(small_phantom.ct, tmp_path / "ct", seed=8)
    first = pydicom.dcmread(paths[0], stop_before_pixels=True)
    mine, _ = write_label_map(small_phantom.labels, tmp_path / "mine" / "labels.nii.gz")
    out = tmp_path / "seg.nii.gz"
    result = run_iris("segment", str(tmp_path / "ct"), "-o", str(out), "--segmentation",
                      str(mine), home=home)
    assert result.returncode == 0, result.stderr
    written = nib.load(out)
    assert written.shape == (first.Columns, first.Rows, len(paths))
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ written.affine
    assert np.allclose(lps[:3, 3], [float(v) for v in first.ImagePositionPatient])
    row_direction = [float(v) for v in first.ImageOrientationPatient[:3]]
    assert np.allclose(lps[:3, 0] / np.linalg.norm(lps[:3, 0]), row_direction)
    back = read_label_map(out, max_voxels=LIMITS.max_voxels)
    assert np.array_equal(back.array, small_phantom.labels.array)
