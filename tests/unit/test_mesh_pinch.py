"""Pinches of Surface Nets' raw surface split so that it is manifold (see iris3d.mesh.pinch)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from tests.support.mesh_cases import touching_blocks

from iris3d.mesh.finish import triangulate
from iris3d.mesh.grid import crop_to_labels
from iris3d.mesh.pinch import split_pinches
from iris3d.mesh.surfacenets import extract_surfaces
from iris3d.mesh.topology import compact, holes, is_closed_manifold


def _raw_surface(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    crop = crop_to_labels(array)
    assert crop is not None
    surfaces = extract_surfaces(crop, [1])
    return compact(surfaces.points_ijk, surfaces.faces(1))


def _parts(faces: np.ndarray, count: int) -> int:
    tail, head = faces.ravel(), np.roll(faces, -1, axis=1).ravel()
    graph = coo_matrix((np.ones(len(tail)), (tail, head)), shape=(count, count))
    return int(connected_components(graph, directed=False)[0])


def test_an_edge_between_two_blocks_is_split_into_two_closed_parts() -> None:
    points, quads = _raw_surface(touching_blocks().array)
    assert not is_closed_manifold(triangulate(None, quads), len(points))
    split, split_quads = split_pinches(points, quads)
    # The shared edge's two ends (and the voxel corners along it) get a copy each.
    assert len(split) > len(points) and len(split_quads) == len(quads)
    triangles = triangulate(None, split_quads)
    assert is_closed_manifold(triangles, len(split))
    assert _parts(split_quads, len(split)) == 2 and holes(triangles, len(split)) == 0


def test_a_corner_touch_is_split_and_a_clean_surface_is_unchanged() -> None:
    array = np.zeros((8, 8, 8), dtype=np.uint8)
    array[2:4, 2:4, 2:4] = 1
    clean_points, clean_quads = _raw_surface(array)
    assert split_pinches(clean_points, clean_quads)[0] is clean_points
    array[4, 4, 4] = 1  # touches the cube at one corner only
    points, quads = _raw_surface(array)
    split, split_quads = split_pinches(points, quads)
    assert len(split) == len(points) + 1
    assert is_closed_manifold(triangulate(None, split_quads), len(split))
    assert _parts(split_quads, len(split)) == 2


def test_copies_start_apart_on_their_own_sides() -> None:
    """The two copies of the shared corner move towards their own cubes' centres."""
    array = np.zeros((8, 8, 8), dtype=np.uint8)
    array[2:4, 2:4, 2:4] = 1
    array[4:6, 4:6, 4:6] = 1
    points, quads = _raw_surface(array)
    split, _ = split_pinches(points, quads)
    corner = np.array([3.5, 3.5, 3.5])  # the corner of voxels [3, 3, 3] and [4, 4, 4]
    copies = split[np.linalg.norm(split - corner, axis=1) < 0.6]
    assert len(copies) == 2
    offsets = copies - corner
    assert np.all(np.sign(offsets[0]) == -np.sign(offsets[1]))  # one towards each cube
    assert np.linalg.norm(copies[0] - copies[1]) > 0.3

