"""Downloads per structure: STL and OBJ in LPS millimetres that other tools load as they are."""

from __future__ import annotations

import io
import zipfile
from typing import cast

import numpy as np
import pytest
import trimesh
from tests.support.mesh_cases import phantom, phantom_meshes

from iris3d.export import write_mesh_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    path = tmp_path_factory.mktemp("bundle") / "meshes.zip"
    size = write_mesh_bundle(list(phantom_meshes()), path)
    assert size == path.stat().st_size
    return zipfile.ZipFile(path)


def _ras(name: str) -> np.ndarray:
    mesh = next(m for m in phantom_meshes() if m.structure.name == name)
    return mesh.vertices.astype(np.float64)


def test_every_structure_has_stl_obj_and_mtl(bundle: zipfile.ZipFile) -> None:
    names = set(bundle.namelist())
    for mesh in phantom_meshes():
        stem = f"{mesh.structure.label:03d}_{mesh.structure.name}"
        assert {f"{stem}.stl", f"{stem}.obj", f"{stem}.mtl"} <= names
    readme = bundle.read("README.txt").decode()
    assert "LPS millimetres" in readme and "NO" not in readme.split("watertight.")[1]


def test_stl_is_watertight_in_lps_millimetres(bundle: zipfile.ZipFile) -> None:
    data = bundle.read("005_liver.stl")
    assert b"LPS millimetres" in data[:80] and not data.startswith(b"solid")
    stl = cast(trimesh.Trimesh, trimesh.load(io.BytesIO(data), file_type="stl"))
    assert stl.is_watertight and stl.is_winding_consistent
    assert stl.volume / 1000 == pytest.approx(phantom().truth["liver"].volume_ml, rel=0.02)
    ras = _ras("liver")
    # LPS = RAS with x and y negated; the liver (patient's right) is at negative LPS x.
    np.testing.assert_allclose(stl.bounds[0], [-ras[:, 0].max(), -ras[:, 1].max(),
                                               ras[:, 2].min()], atol=1e-3)
    assert stl.centroid[0] < 0


def test_obj_loads_with_lps_coordinates_and_its_colour(bundle: zipfile.ZipFile) -> None:
    text = bundle.read("001_spleen.obj").decode()
    assert "# Coordinates: LPS millimetres" in text and "mtllib 001_spleen.mtl" in text
    obj = cast(trimesh.Trimesh,
               trimesh.load(io.BytesIO(text.encode()), file_type="obj", process=False))
    ras = _ras("spleen")
    np.testing.assert_allclose(obj.vertices[:, 0], -ras[:, 0], atol=1e-3)
    np.testing.assert_allclose(obj.vertices[:, 1], -ras[:, 1], atol=1e-3)
    np.testing.assert_allclose(obj.vertices[:, 2], ras[:, 2], atol=1e-3)
    assert obj.vertices[:, 0].min() > 0  # the spleen (patient's left) is at positive LPS x
    mtl = bundle.read("001_spleen.mtl").decode()
    assert "newmtl spleen" in mtl and "Kd 0.6157 0.4235 0.6353" in mtl
