"""Marching cubes on one label's mask: a closed, manifold surface where Surface Nets' is not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iris3d.mesh import _vtk
from iris3d.mesh.grid import LabelCrop


def marching_cubes_surface(
    crop: LabelCrop, label: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Triangles of one label's boundary in full-volume [i, j, k] coordinates, facing out."""
    inside = crop.array == label
    where = [np.flatnonzero(inside.any(axis=others)) for others in ((1, 2), (0, 2), (0, 1))]
    if any(len(w) == 0 for w in where):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    # The crop has a background border, so the label's box grown by one voxel stays inside it.
    low = [max(int(w[0]) - 1, 0) for w in where]
    high = [min(int(w[-1]) + 2, n) for w, n in zip(where, crop.array.shape, strict=True)]
    mask = np.ascontiguousarray(
        inside[low[0]:high[0], low[1]:high[1], low[2]:high[2]], dtype=np.uint8
    )
    points, triangles = _vtk.flying_edges(mask)
    if len(triangles) == 0:
        return points, triangles
    points = crop.to_volume(points + np.asarray(low)).astype(np.float64)
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    if np.einsum("ij,ij->", a, np.cross(b, c)) < 0:
        triangles = np.ascontiguousarray(triangles[:, ::-1])
    return points, triangles
