"""Tissue compartments: noisy per-voxel labels meshed closed, manifold, small, at their volume."""

from __future__ import annotations

import numpy as np
import pytest

from iris3d.anatomy import LabelTable
from iris3d.mesh import FAST, build_meshes
from iris3d.mesh.compartment import compartment_meshes
from iris3d.mesh.decimate import drop_folds
from iris3d.mesh.selfcross import crossing_pairs
from iris3d.mesh.topology import is_closed_manifold
from iris3d.volume import LabelMap

TABLE = LabelTable.from_names({1: "subcutaneous_fat", 2: "skeletal_muscle"})


def noisy_shell(affine: np.ndarray | None = None, seed: int = 0) -> LabelMap:
    """A thick elliptic shell of label 1 around a core of label 2, with 8 % of the shell's
    voxels flipped to the core's label and as many of the core's to the shell's: HU classes
    of single voxels, as the tissue engine draws fat and muscle."""
    i, j, k = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in (60, 56, 40)),
                          indexing="ij")
    r = np.sqrt(((i - 30) / 24) ** 2 + ((j - 28) / 20) ** 2 + ((k - 20) / 15) ** 2)
    array = np.zeros(r.shape, dtype=np.uint8)
    array[r < 1.0] = 1
    array[r < 0.7] = 2
    flip = np.random.default_rng(seed).random(r.shape) < 0.08
    array[flip & (array == 1)] = 3  # swapped below, so no voxel flips twice
    array[flip & (array == 2)] = 1
    array[array == 3] = 2
    spacing = np.diag([1.5, 1.5, 2.0, 1.0]) if affine is None else affine
    return LabelMap(array, spacing, TABLE)


def test_a_noisy_compartment_is_closed_manifold_small_and_keeps_its_volume() -> None:
    labels = noisy_shell()
    (raw_fat, _) = build_meshes(labels, FAST)
    assert not raw_fat.closed  # the problem: Surface Nets on voxel noise is not manifold
    meshes = compartment_meshes(labels, {1: 3.0, 2: 3.0}, FAST)
    assert set(meshes) == {1, 2}
    voxel_mm3 = 1.5 * 1.5 * 2.0
    for label, mesh in meshes.items():
        assert mesh.closed and mesh.method == "smoothed_field"
        assert is_closed_manifold(mesh.faces, len(mesh.vertices))
        assert len(crossing_pairs(mesh.vertices, mesh.faces)) == 0
        voxels = np.count_nonzero(labels.array == label) * voxel_mm3
        assert mesh.volume_mm3 == pytest.approx(voxels, rel=0.02)
        assert mesh.triangle_count < raw_fat.triangle_count / 4


def test_a_mirrored_grid_gives_outward_faces_where_the_voxels_are() -> None:
    plain = noisy_shell()
    mirrored = np.diag([-1.5, 1.5, 2.0, 1.0])
    mirrored[0, 3] = 100.0
    flipped = LabelMap(plain.array, mirrored, TABLE)
    (mesh,) = compartment_meshes(flipped, {2: 3.0}, FAST).values()
    assert mesh.volume_mm3 > 0  # counter-clockwise from outside
    ijk = np.argwhere(plain.array == 2).mean(axis=0)
    centre = (mirrored @ np.append(ijk, 1.0))[:3]
    np.testing.assert_allclose(mesh.centroid_ras, centre, atol=1.0)


def test_isolated_voxels_are_left_to_surface_nets() -> None:
    array = np.zeros((40, 40, 40), dtype=np.uint8)
    array[np.random.default_rng(1).random(array.shape) < 0.02] = 1
    labels = LabelMap(array, np.eye(4), TABLE)
    assert compartment_meshes(labels, {1: 3.0}, FAST) == {}
    assert compartment_meshes(labels, {}, FAST) == {}


def test_drop_folds_removes_back_to_back_triangles_only() -> None:
    faces = np.array([[0, 1, 2], [0, 2, 3], [1, 4, 2], [2, 4, 1], [0, 3, 1]], dtype=np.int64)
    np.testing.assert_array_equal(drop_folds(faces), faces[[0, 1, 4]])
    np.testing.assert_array_equal(drop_folds(faces[:2]), faces[:2])
