"""Meshes from studies read off disk: NIfTI in several voxel orders and a DICOM series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.support.mesh_cases import phantom

from iris3d.imageio import read_label_map
from iris3d.ingest import load_study
from iris3d.ingest.limits import ReadLimits
from iris3d.mesh import build_meshes
from iris3d.phantom import make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti
from iris3d.volume import LabelMap

LIMITS = ReadLimits.defaults()

NAMES = ("liver", "spleen", "kidney_right", "kidney_left", "heart", "urinary_bladder")


@pytest.mark.parametrize("orientation", ["LPS", "PIR", "RAS"])
def test_nifti_in_any_voxel_order_gives_the_same_surfaces(orientation: str,
                                                          tmp_path: Path) -> None:
    p = phantom()
    path = write_nifti(p.labels, tmp_path / f"seg_{orientation}.nii.gz", orientation)
    labels = read_label_map(path, p.labels.table, max_voxels=LIMITS.max_voxels)
    meshes = {m.structure.name: m for m in build_meshes(labels)}
    for name in NAMES:
        truth = p.truth[name]
        assert np.linalg.norm(meshes[name].centroid_ras - truth.centroid_ras) < 1.5, name
        assert meshes[name].volume_ml == pytest.approx(truth.volume_ml, rel=0.02)
    assert meshes["liver"].centroid_ras[0] > meshes["spleen"].centroid_ras[0] + 100


def test_dicom_series_gives_surfaces_where_the_patient_is(tmp_path: Path) -> None:
    p = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    write_dicom_series(p.ct, tmp_path / "series")
    ct = load_study(tmp_path / "series", limits=LIMITS)
    np.testing.assert_allclose(ct.affine, p.ct.affine, atol=1e-3)  # read back into RAS+
    labels = LabelMap(p.labels.array, ct.affine, p.labels.table)
    meshes = {m.structure.name: m for m in build_meshes(labels)}
    for name in NAMES:
        distance = np.linalg.norm(meshes[name].centroid_ras - p.truth[name].centroid_ras)
        assert distance < 3.0, name  # half of a 6 mm voxel
    assert meshes["liver"].centroid_ras[0] > meshes["spleen"].centroid_ras[0]
