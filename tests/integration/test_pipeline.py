"""`process_study` and `iris process` end to end on phantoms whose anatomy we know."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import trimesh

from iris3d.contracts import Quality, Stage
from iris3d.export import read_glb
from iris3d.ingest import load_study
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti
from iris3d.pipeline import OutputExistsError, ProcessOptions, process_study
from iris3d.pipeline.progress import overall_fraction
from iris3d.segment.base import SegmentationError
from iris3d.volume import LabelMap


@pytest.fixture(scope="module")
def phantom() -> Phantom:
    return make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))


def test_imported_segmentation_gives_every_file_with_true_geometry(
    phantom: Phantom, tmp_path: Path
) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz", "LPS")
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz", "PIR")
    seen: list[tuple[Stage, float]] = []
    result = process_study(
        ct, tmp_path / "out",
        options=ProcessOptions(engine="import", segmentation=labels),
        progress=lambda stage, fraction, message: seen.append((stage, fraction)),
    )
    expected = {"glb", "glb_plain", "meshes_zip", "labels_nifti", "ct_nifti", "labels_json",
                "statistics_json", "statistics_csv", "thumbnail", "manifest"}
    assert set(result.files) == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in result.files.values())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left

    overall = [overall_fraction(stage, f) for stage, f in seen]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0)

    stats = {s["name"]: s for s in json.loads(result.files["statistics_json"].read_text())
             ["structures"]}
    assert set(stats) == set(phantom.truth)
    for name, truth in phantom.truth.items():
        assert stats[name]["voxel_volume_ml"] == pytest.approx(truth.volume_ml)
    liver = read_glb(result.files["glb"])
    names = {s.name for s in liver.structures}
    assert {"liver", "spleen", "heart"} <= names
    plain = read_glb(result.files["glb_plain"])
    assert "extensionsRequired" not in plain.document
    assert {s.name for s in plain.structures} == names

    manifest = json.loads(result.files["manifest"].read_text())
    assert manifest["segmentation"]["engine"] == "import"

    # The slice views show exactly the volume that was segmented, in HU on its RAS+ affine.
    saved, segmented = nib.load(str(result.files["ct_nifti"])), load_study(ct)
    assert saved.get_data_dtype() == np.int16
    np.testing.assert_allclose(saved.affine, segmented.affine, atol=1e-4)
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj),
                                  np.rint(segmented.array).astype(np.int16))
    assert manifest["study"]["shape"] == [64, 56, 48]
    assert set(manifest["timings_s"]) == {"ingest", "segment", "mesh", "export", "stats"}
    assert len(manifest["structures"]) == len(phantom.truth)


def test_stl_bundle_is_in_lps_millimetres(phantom: Phantom, tmp_path: Path) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz")
    result = process_study(ct, tmp_path / "out",
                           options=ProcessOptions(engine="import", segmentation=labels))
    with zipfile.ZipFile(result.files["meshes_zip"]) as bundle:
        stl_name = next(n for n in bundle.namelist() if "liver" in n and n.endswith(".stl"))
        mesh = trimesh.load(trimesh.util.wrap_as_stream(bundle.read(stl_name)), file_type="stl")
    truth = np.array(phantom.truth["liver"].centroid_ras)
    assert mesh.is_watertight
    # LPS: x and y negated; the liver (patient's right) therefore has x < centre in LPS.
    np.testing.assert_allclose(mesh.center_mass, truth * [-1, -1, 1], atol=3.0)


def test_dicom_study_through_the_tissue_engine(phantom: Phantom, tmp_path: Path) -> None:
    write_dicom_series(phantom.ct, tmp_path / "dicom")
    result = process_study(tmp_path / "dicom", tmp_path / "out",
                           options=ProcessOptions(engine="tissue", quality=Quality.FAST))
    manifest = json.loads(result.files["manifest"].read_text())
    assert manifest["segmentation"]["engine"] == "tissue"
    assert manifest["study"]["source_format"].startswith("dicom")
    names = {s["name"] for s in manifest["structures"]}
    assert {"lung_left", "lung_right"} <= names
    assert manifest["files"]["dicom_seg"] == "segmentation.dcm"
    assert manifest["files"]["dicom_sr"] == "measurements.dcm"


def test_a_failing_stage_leaves_nothing_behind(phantom: Phantom, tmp_path: Path) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    elsewhere = phantom.labels.affine.copy()
    elsewhere[:3, 3] += 500.0  # the same grid half a metre away: not this patient's space
    labels = write_nifti(
        LabelMap(phantom.labels.array, elsewhere, phantom.labels.table), tmp_path / "labels.nii.gz"
    )
    with pytest.raises(SegmentationError):
        process_study(ct, tmp_path / "out",
                      options=ProcessOptions(engine="import", segmentation=labels))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ct.nii.gz", "labels.nii.gz"]


def test_cancelling_from_progress_leaves_nothing_behind(phantom: Phantom, tmp_path: Path) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz")

    class CancelledError(Exception):
        pass

    def cancel_at_export(stage: Stage, fraction: float, message: str) -> None:
        if stage is Stage.EXPORT:
            raise CancelledError

    with pytest.raises(CancelledError):
        process_study(ct, tmp_path / "out", progress=cancel_at_export,
                      options=ProcessOptions(engine="import", segmentation=labels))
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_existing_output_is_kept_unless_overwrite(phantom: Phantom, tmp_path: Path) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    options = ProcessOptions(engine="import", segmentation=labels)
    with pytest.raises(OutputExistsError):
        process_study(ct, tmp_path / "out", options=options)
    assert (tmp_path / "out" / "mine.txt").exists()
    process_study(ct, tmp_path / "out", options=options, overwrite=True)
    assert not (tmp_path / "out" / "mine.txt").exists()
    assert (tmp_path / "out" / "anatomy.glb").exists()


def run_iris(*args: str) -> subprocess.CompletedProcess[str]:
    iris = Path(sys.executable).with_name("iris")
    return subprocess.run(
        [str(iris), *args], capture_output=True, text=True, check=False, timeout=300)


def test_iris_process_and_demo_commands(phantom: Phantom, tmp_path: Path) -> None:
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz")
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz")
    result = run_iris("process", str(ct), "-o", str(tmp_path / "out"),
                      "--segmentation", str(labels))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "anatomy.glb").is_file()
    again = run_iris("process", str(ct), "-o", str(tmp_path / "out"))
    assert again.returncode == 2 and "already exists" in again.stderr

    demo = run_iris("demo", str(tmp_path / "demo"))
    assert demo.returncode == 0, demo.stderr
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text())
    assert manifest["segmentation"]["structures"] >= 40


def test_iris_process_writes_dicom_results_for_a_dicom_study(
    phantom: Phantom, tmp_path: Path
) -> None:
    write_dicom_series(phantom.ct, tmp_path / "dicom", seed=9)
    labels = write_nifti(phantom.labels, tmp_path / "labels.nii.gz")
    result = run_iris("process", str(tmp_path / "dicom"), "-o", str(tmp_path / "out"),
                      "--segmentation", str(labels))
    assert result.returncode == 0, result.stderr
    assert "segmentation.dcm" in result.stdout and "measurements.dcm" in result.stdout
    assert (tmp_path / "out" / "segmentation.dcm").is_file()
    assert (tmp_path / "out" / "measurements.dcm").is_file()
