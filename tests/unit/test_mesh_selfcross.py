"""Self-intersection search on meshes of every shape, including degenerate decimation output."""

from __future__ import annotations

import numpy as np

from iris3d.mesh.selfcross import crossing_pairs

# Two triangles through each other (no shared vertex), and one beside them touching neither.
CROSSING = np.array([
    [0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0],
    [2.0, 2.0, -5.0], [2.0, 2.0, 5.0], [3.0, 3.0, 5.0],
    [50.0, 50.0, 50.0], [60.0, 50.0, 50.0], [50.0, 60.0, 50.0],
])


def test_two_triangles_through_each_other_are_found() -> None:
    pairs = crossing_pairs(CROSSING, np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]]))
    assert sorted(map(sorted, pairs.tolist())) == [[0, 1]]


def test_a_mesh_of_mostly_collapsed_triangles_is_searched_without_a_huge_grid() -> None:
    """Decimation can shrink most of a thin part's triangles to points: the median triangle is
    then zero-sized, and a grid of that size would need petabytes for the real ones."""
    rng = np.random.default_rng(0)
    points = rng.uniform(0.0, 100.0, (100_000, 3))
    collapsed = np.repeat(np.arange(100_000)[:, None], 3, axis=1) + len(CROSSING)
    vertices = np.concatenate([CROSSING * 10.0, points])  # the two real triangles span the mesh
    faces = np.concatenate([np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]]), collapsed])
    pairs = crossing_pairs(vertices, faces)
    assert sorted(map(sorted, pairs.tolist())) == [[0, 1]]
