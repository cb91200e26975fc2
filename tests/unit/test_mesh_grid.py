"""Label maps resampled with nearest neighbour are meshed on their own, coarser grid."""

from __future__ import annotations

import numpy as np
import pytest
from tests.support.mesh_cases import phantom

from iris3d.mesh import build_meshes, printable_meshes
from iris3d.mesh.finish import to_patient, triangulate
from iris3d.mesh.grid import crop_to_labels, native_grid
from iris3d.mesh.measure import volume_and_area
from iris3d.mesh.surfacenets import extract_surfaces
from iris3d.volume import LabelMap


def upsampled(labels: LabelMap, shape: tuple[int, int, int]) -> LabelMap:
    """``labels`` on a finer grid of the same field of view, nearest neighbour (voxel centres
    aligned as TotalSegmentator's resampling does)."""
    index = [np.minimum(((np.arange(n) + 0.5) * s / n).astype(np.intp), s - 1)
             for n, s in zip(shape, labels.array.shape, strict=True)]
    ratio = np.asarray(labels.array.shape) / np.asarray(shape)
    affine = labels.affine.copy()
    affine[:3, :3] = labels.affine[:3, :3] * ratio
    affine[:3, 3] = labels.affine[:3, 3] + labels.affine[:3, :3] @ ((ratio - 1) / 2)
    return LabelMap(np.ascontiguousarray(labels.array[np.ix_(*index)]), affine, labels.table)


def test_integer_upsampling_gives_exactly_the_original_surfaces() -> None:
    original = phantom().labels
    fine = upsampled(original, tuple(n * f for n, f in zip(original.array.shape, (2, 2, 3),
                                                            strict=True)))
    crop, own = crop_to_labels(fine.array), crop_to_labels(original.array)
    assert crop is not None and own is not None
    assert native_grid(crop).array.shape == own.array.shape
    expected = {m.structure.name: m for m in build_meshes(original)}
    for mesh in build_meshes(fine):
        same = expected[mesh.structure.name]
        assert mesh.triangle_count == same.triangle_count, mesh.structure.name
        np.testing.assert_allclose(mesh.vertices, same.vertices, atol=1e-3)


def test_uneven_upsampling_keeps_centroids_volumes_and_closure() -> None:
    p = phantom()
    shape = (243, 280, 144)  # x1.9, x2.5, x1.5: runs of uneven length
    fine = upsampled(p.labels, shape)
    crop = crop_to_labels(fine.array)
    assert crop is not None
    cells = native_grid(crop).array.shape
    assert all(c < n for c, n in zip(cells, crop.array.shape, strict=True))
    voxel_ml = np.bincount(fine.array.ravel()) * abs(np.linalg.det(fine.affine[:3, :3])) / 1e3
    meshes = printable_meshes(fine, build_meshes(fine))
    for mesh in meshes:
        truth = p.truth[mesh.structure.name]
        assert np.linalg.norm(mesh.centroid_ras - truth.centroid_ras) < 1.5, mesh.structure.name
        if voxel_ml[mesh.structure.label] > 10:
            assert mesh.volume_ml == pytest.approx(voxel_ml[mesh.structure.label], rel=0.02)
        assert mesh.closed, mesh.structure.name


def test_one_small_structure_upsampled_is_recognised() -> None:
    """A single 3 cm ball (a scene with one small structure): fewer slices than the probes a
    large box is sampled with, so every pair of neighbouring slices is compared."""
    centres = (np.indices((11, 11, 11)).reshape(3, -1).T - 5) * 3.0
    ball = (np.linalg.norm(centres - 0.7, axis=1) < 14).reshape(11, 11, 11).astype(np.uint8)
    coarse = LabelMap(np.pad(ball, 2), np.diag([3.0, 3.0, 3.0, 1.0]), phantom().labels.table)
    fine = upsampled(coarse, (60, 60, 30))
    crop = crop_to_labels(fine.array)
    assert crop is not None
    np.testing.assert_allclose(native_grid(crop).voxels_per_cell(), [4.0, 4.0, 2.0])


def test_a_label_map_at_its_own_resolution_is_left_alone() -> None:
    crop = crop_to_labels(phantom().labels.array)
    assert crop is not None
    assert native_grid(crop) is crop


def test_merged_cells_map_back_to_voxel_boundaries() -> None:
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 4, size=(12, 9, 14), dtype=np.uint8)
    coarse[[0, -1]] = 1  # keep the box the whole array, so that runs start at the edges
    fine = np.repeat(np.repeat(coarse, 5, axis=0), 4, axis=2)
    crop = crop_to_labels(fine)
    assert crop is not None
    merged = native_grid(crop)
    np.testing.assert_array_equal(merged.array[1:-1, 1:-1, 1:-1], coarse)
    # Cell 0 is the background border; cell c >= 1 holds coarse slice c - 1, so the boundary
    # c + 0.5 between cells c and c + 1 is voxel boundary c * factor - 0.5 of the volume
    # (axis 1, not merged, is only shifted by the border).
    boundaries = np.array([[1.5, 1.5, 1.5], [3.5, 2.5, 5.5]], dtype=np.float32)
    np.testing.assert_array_equal(merged.to_volume(boundaries),
                                  [[4.5, 0.5, 3.5], [14.5, 1.5, 19.5]])


def test_raw_measures_are_those_of_the_raw_triangles_under_any_affine() -> None:
    original = phantom().labels
    fine = upsampled(original, (190, 150, 192))
    turn = np.radians(30.0)
    rotation = np.eye(4)
    rotation[:2, :2] = [[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]
    mirror = np.diag([1.0, 1.0, -1.0, 1.0])  # left-handed: negative determinant
    affine = rotation @ mirror @ fine.affine
    crop = crop_to_labels(fine.array)
    assert crop is not None
    surfaces = extract_surfaces(native_grid(crop), [5, 13, 51])
    voxel_mm3 = abs(np.linalg.det(affine[:3, :3]))
    for label in (5, 13, 51):
        quads = surfaces.faces(label)
        volume, area = volume_and_area(to_patient(surfaces.points_ijk, affine),
                                       triangulate(None, quads))
        expected_volume, expected_area = surfaces.raw_measures(label, affine)
        assert expected_volume == pytest.approx(abs(volume), rel=1e-6)
        assert expected_volume == pytest.approx(np.count_nonzero(fine.array == label) * voxel_mm3,
                                                rel=1e-6)
        assert expected_area == pytest.approx(area, rel=1e-6)
