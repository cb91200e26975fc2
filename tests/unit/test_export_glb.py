"""The study GLB: valid container, decodable meshopt data, right names, colours and axes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree
from tests.support.mesh_cases import phantom_meshes

from iris3d.export import (
    RAS_MM_TO_GLTF,
    SIGNED_DISTANCE,
    AnnotatedMesh,
    encode_glb,
    read_glb,
    write_glb,
)
from iris3d.mesh import StructureMesh


def _triangle_set(faces: np.ndarray) -> set[tuple[int, ...]]:
    """Triangles as sets, each rotated to start at its smallest index (winding kept)."""
    f = np.asarray(faces, dtype=np.int64)
    shift = f.argmin(axis=1)
    rows = np.arange(len(f))[:, None]
    rotated = f[rows, (shift[:, None] + np.arange(3)) % 3]
    return {tuple(t) for t in rotated.tolist()}


def _meshes() -> dict[str, StructureMesh]:
    return {m.structure.name: m for m in phantom_meshes()}


@pytest.mark.parametrize("compress", [True, False])
def test_glb_decodes_back_to_the_meshes(compress: bool, tmp_path: Path) -> None:
    meshes = _meshes()
    size = write_glb(list(meshes.values()), tmp_path / "study.glb", compress=compress)
    study = read_glb(tmp_path / "study.glb")
    assert size == (tmp_path / "study.glb").stat().st_size
    assert {s.name for s in study.structures} == set(meshes)
    for s in study.structures:
        mesh = meshes[s.name]
        assert s.group == mesh.structure.group and s.extras["label"] == mesh.structure.label
        assert s.faces.shape == mesh.faces.shape
        # Same triangles with the same winding, reordered for the GPU.
        distance, original = cKDTree(mesh.vertices).query(s.vertices_ras)
        assert distance.max() < 0.01  # 16-bit quantization of a < 400 mm structure
        assert _triangle_set(original[s.faces]) == _triangle_set(mesh.faces)
        np.testing.assert_allclose(np.linalg.norm(s.normals, axis=1), 1.0, atol=0.02)
    used = set(study.document.get("extensionsRequired", []))
    assert used == ({"KHR_mesh_quantization", "EXT_meshopt_compression"} if compress
                    else {"KHR_mesh_quantization"})


def test_plain_glb_needs_no_extension_and_keeps_the_meshes(tmp_path: Path) -> None:
    meshes = _meshes()
    write_glb(list(meshes.values()), tmp_path / "plain.glb", plain=True)
    study = read_glb(tmp_path / "plain.glb")
    doc = study.document
    assert "extensionsUsed" not in doc and "extensionsRequired" not in doc
    assert "extensions" not in json.dumps(doc["bufferViews"]) and len(doc["buffers"]) == 1
    for s in study.structures:
        mesh = meshes[s.name]
        position = doc["accessors"][doc["meshes"][doc["nodes"][_node(doc, s.name)]["mesh"]]
                                    ["primitives"][0]["attributes"]["POSITION"]]
        assert position["componentType"] == 5126  # FLOAT: any glTF 2.0 reader takes it
        distance, original = cKDTree(mesh.vertices).query(s.vertices_ras)
        assert distance.max() < 1e-4  # float32 millimetres: exact
        assert _triangle_set(original[s.faces]) == _triangle_set(mesh.faces)
        np.testing.assert_allclose(np.linalg.norm(s.normals, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(study.root_matrix, RAS_MM_TO_GLTF)


def _node(doc: dict[str, object], name: str) -> int:
    nodes = doc["nodes"]
    assert isinstance(nodes, list)
    return next(n for n, node in enumerate(nodes) if node.get("name") == name and "mesh" in node)


def test_compression_makes_the_file_smaller() -> None:
    meshes = list(_meshes().values())
    assert len(encode_glb(meshes)) < 0.7 * len(encode_glb(meshes, compress=False))


def test_container_header_and_chunks() -> None:
    data = encode_glb(list(_meshes().values()))
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, kind = struct.unpack_from("<I4s", data, 12)
    assert kind == b"JSON" and json_length % 4 == 0
    doc = json.loads(data[20:20 + json_length])
    bin_length, bin_kind = struct.unpack_from("<I4s", data, 20 + json_length)
    assert bin_kind == b"BIN\0" and bin_length == doc["buffers"][0]["byteLength"]
    assert 28 + json_length + bin_length == len(data)


def test_root_node_shows_the_patient_from_the_front_head_up() -> None:
    study = read_glb(encode_glb(list(_meshes().values())))
    np.testing.assert_allclose(study.root_matrix, RAS_MM_TO_GLTF)

    def gltf_centre(name: str) -> np.ndarray:
        s = next(x for x in study.structures if x.name == name)
        ras = np.c_[s.vertices_ras, np.ones(len(s.vertices_ras))]
        centre: np.ndarray = (ras @ study.root_matrix.T)[:, :3].mean(axis=0)
        return centre

    liver, spleen = gltf_centre("liver"), gltf_centre("spleen")
    lung, bladder = gltf_centre("lung_upper_lobe_right"), gltf_centre("urinary_bladder")
    heart, spine = gltf_centre("heart"), gltf_centre("vertebrae_T8")
    # Seen from +Z (three.js's default camera): the patient's right is on the viewer's left.
    assert liver[0] < spleen[0]
    assert lung[1] > bladder[1]  # head up: +Y is superior
    assert heart[2] > spine[2]  # +Z (towards the camera) is anterior
    # Metres: a torso is tenths of a metre wide, not hundreds.
    assert 0.05 < abs(liver[0] - spleen[0]) < 1.0


def test_one_node_per_structure_under_its_group_with_its_colour() -> None:
    meshes = _meshes()
    study = read_glb(encode_glb(list(meshes.values())))
    doc = study.document
    root = doc["nodes"][doc["scenes"][0]["nodes"][0]]
    groups = [doc["nodes"][i]["name"] for i in root["children"]]
    assert set(groups) == {m.structure.group for m in meshes.values()}
    liver = next(s for s in study.structures if s.name == "liver")
    r, g, b, a = liver.base_colour
    expected = [(c / 255) ** 2.2 for c in meshes["liver"].structure.colour]  # sRGB -> linear
    np.testing.assert_allclose([r, g, b], expected, atol=0.02)
    assert a == 1.0 and liver.extras["colour"] == meshes["liver"].structure.colour_hex


@pytest.mark.parametrize("plain", [False, True])
def test_empty_study_is_still_a_valid_glb(plain: bool) -> None:
    study = read_glb(encode_glb([], plain=plain))
    assert study.structures == [] and "extensionsRequired" not in study.document


@pytest.mark.parametrize("compress", [True, False])
def test_signed_distances_travel_with_their_vertices(compress: bool) -> None:
    """An annotated structure carries ``_SIGNED_DISTANCE`` (float32, one per vertex, reordered
    with the vertices) and its extras; a plain one beside it carries neither."""
    meshes = _meshes()
    liver, spleen = meshes["liver"], meshes["spleen"]
    height = (liver.vertices[:, 2] - liver.vertices[:, 2].mean()).astype(np.float32)
    annotated = AnnotatedMesh(liver, height, {"status": "both", "distance_mm": {"mean": 1.5}})
    study = read_glb(encode_glb([annotated, spleen], compress=compress))
    read = {s.name: s for s in study.structures}
    assert read["spleen"].signed_distance is None and "status" not in read["spleen"].extras
    values = read["liver"].signed_distance
    assert values is not None and values.dtype == np.float32
    _, original = cKDTree(liver.vertices).query(read["liver"].vertices_ras)
    np.testing.assert_array_equal(values, height[original])  # lossless
    assert read["liver"].extras["status"] == "both"
    assert read["liver"].extras["distance_mm"] == {"mean": 1.5}
    assert read["liver"].extras["label"] == liver.structure.label  # the usual extras stay
    primitive = study.document["meshes"][0]["primitives"][0]
    accessor = study.document["accessors"][primitive["attributes"][SIGNED_DISTANCE]]
    assert (accessor["type"], accessor["componentType"]) == ("SCALAR", 5126)


def test_signed_distances_must_be_finite_and_one_per_vertex() -> None:
    liver = _meshes()["liver"]
    with pytest.raises(ValueError, match="one per vertex"):
        AnnotatedMesh(liver, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        AnnotatedMesh(liver, np.full(len(liver.vertices), np.nan, dtype=np.float32))
