"""Triangles of a mesh that cross each other: what a slicer for 3D printing rejects."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from iris3d.mesh.smooth import umbrella_operator

Vertices = npt.NDArray[np.float64]
Faces = npt.NDArray[np.integer]


def crossing_pairs(vertices: Vertices, faces: Faces, spread: float = 99.0
                   ) -> npt.NDArray[np.intp]:
    """(K, 2) pairs of triangles with no shared vertex whose interiors cross (an edge of one
    passes through the other).

    Candidates are triangles whose centres lie within the sum of their radii, found with a
    k-d tree searched out to twice the ``spread`` percentile of the radii (100: all pairs; the
    default skips the rare pairs between two of the very largest triangles, to stay fast on
    decimated meshes).
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if len(f) < 2:
        return np.zeros((0, 2), dtype=np.intp)
    corners = v[f]
    centre = corners.mean(axis=1)
    radius = np.linalg.norm(corners - centre[:, None], axis=2).max(axis=1)
    search = 2.0 * float(np.percentile(radius, spread))
    pairs = cKDTree(centre).query_pairs(search, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.intp)
    a, b = pairs[:, 0], pairs[:, 1]
    near = np.linalg.norm(centre[a] - centre[b], axis=1) <= radius[a] + radius[b]
    a, b = a[near], b[near]
    shared = (f[a][:, :, None] == f[b][:, None, :]).any(axis=(1, 2))
    a, b = a[~shared], b[~shared]
    crossing = np.zeros(len(a), dtype=bool)
    for one, other in ((a, b), (b, a)):
        for k in range(3):
            crossing |= _segment_crosses(corners[one, k], corners[one, (k + 1) % 3],
                                         corners[other])
    result: npt.NDArray[np.intp] = np.stack([a[crossing], b[crossing]], axis=1).astype(np.intp)
    return result


def undo_crossings(before: Vertices, after: Vertices, faces: Faces, rounds: int = 6
                   ) -> Vertices:
    """``after``, except where triangles cross another: their corners' moves from ``before``
    are first replaced by their neighbours' mean (a kink smoothed out), then halved, and
    after ``rounds`` undone, until none crosses. Crossings that ``before`` has already are
    left as they are."""
    start = np.asarray(before, dtype=np.float64)
    moves = np.asarray(after, dtype=np.float64) - start
    f = np.asarray(faces)
    neighbours = umbrella_operator(f, len(start))
    for round_ in range(rounds + 1):
        pairs = crossing_pairs(start + moves, f)
        if len(pairs) == 0:
            break
        corners = np.unique(f[pairs.ravel()])
        if round_ < rounds // 2:
            moves[corners] = (neighbours @ moves)[corners]
        else:
            moves[corners] *= 0.5 if round_ < rounds else 0.0
    result: Vertices = start + moves
    return result


def _segment_crosses(p: Vertices, q: Vertices, triangles: npt.NDArray[np.float64]
                     ) -> npt.NDArray[np.bool_]:
    """Moller-Trumbore, vectorised: the open segment p-q crosses the triangle's interior."""
    direction = q - p
    e1, e2 = triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    h = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, h)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = p - triangles[:, 0]
    u = inv * np.einsum("ij,ij->i", s, h)
    qv = np.cross(s, e1)
    w = inv * np.einsum("ij,ij->i", direction, qv)
    t = inv * np.einsum("ij,ij->i", e2, qv)
    tol = 1e-7
    return np.asarray(ok & (u > tol) & (w > tol) & (u + w < 1 - tol) & (t > tol)
                      & (t < 1 - tol))
