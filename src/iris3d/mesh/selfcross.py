"""Triangles of a mesh that cross each other: what a slicer for 3D printing rejects."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iris3d.mesh.smooth import umbrella_operator

Vertices = npt.NDArray[np.float64]
Faces = npt.NDArray[np.integer]
_UNDO_ROUNDS = 4
_CELLS_PER_BOX = 16  # grid cells listed per triangle box, on average, at most


def crossing_pairs(vertices: Vertices, faces: Faces) -> npt.NDArray[np.intp]:
    """(K, 2) pairs of triangles with no shared vertex whose interiors cross (an edge of one
    passes through the other). Candidates are triangles whose bounding boxes overlap, found
    through a grid of cells about the size of a typical triangle (linear in the mesh's size,
    whatever the spread of triangle sizes after decimation)."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if len(f) < 2:
        return np.zeros((0, 2), dtype=np.intp)
    corners = v[f]
    low, high = corners.min(axis=1), corners.max(axis=1)
    a, b = _overlapping_boxes(low, high)
    shared = (f[a][:, :, None] == f[b][:, None, :]).any(axis=(1, 2))
    a, b = a[~shared], b[~shared]
    crossing = np.zeros(len(a), dtype=bool)
    for one, other in ((a, b), (b, a)):
        for k in range(3):
            crossing |= _segment_crosses(corners[one, k], corners[one, (k + 1) % 3],
                                         corners[other])
    result: npt.NDArray[np.intp] = np.stack([a[crossing], b[crossing]], axis=1).astype(np.intp)
    return result


def _overlapping_boxes(low: Vertices, high: Vertices
                       ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (a < b) of boxes that overlap: each box is listed in every grid cell it touches,
    and boxes that share a cell are compared."""
    size = float(np.median((high - low).max(axis=1)))
    cell = max(size, 1e-6 * max(float(np.ptp(high, axis=0).max()), 1.0), 1e-9)
    while True:
        first = np.floor((low - low.min(axis=0)) / cell).astype(np.int64)
        last = np.floor((high - low.min(axis=0)) / cell).astype(np.int64)
        extent = last - first + 1
        count = extent.prod(axis=1)
        # A mesh whose triangles mostly collapsed to points (a decimated thin part) has a
        # median size near zero: its few real triangles would span billions of cells.
        if int(count.sum()) <= _CELLS_PER_BOX * len(low) + 1024:
            break
        cell *= 2.0
    box = np.repeat(np.arange(len(low)), count)
    local = np.arange(len(box)) - np.repeat(np.cumsum(count) - count, count)
    ny, nz = extent[box, 1], extent[box, 2]
    offset = np.stack([local // (ny * nz), (local // nz) % ny, local % nz], axis=1)
    where = first[box] + offset
    dims = last.max(axis=0) + 1
    key = (where[:, 0] * dims[1] + where[:, 1]) * dims[2] + where[:, 2]
    order = np.argsort(key, kind="stable")
    key, box = key[order], box[order]
    group_end = np.searchsorted(key, key, side="right")
    partners = group_end - np.arange(len(key)) - 1
    left = np.repeat(np.arange(len(key)), partners)
    right = left + 1 + (np.arange(len(left)) - np.repeat(np.cumsum(partners) - partners,
                                                          partners))
    a, b = box[left], box[right]
    # A pair shares every cell of the two boxes' overlap: keep it only in the overlap's first
    # cell (no duplicates to sort out).
    corner = np.maximum(first[a], first[b])
    own = ((corner[:, 0] * dims[1] + corner[:, 1]) * dims[2] + corner[:, 2]) == key[left]
    a, b = a[own], b[own]
    overlap = np.all((low[a] <= high[b]) & (low[b] <= high[a]), axis=1)
    return a[overlap], b[overlap]


def undo_crossings(before: Vertices, after: Vertices, faces: Faces) -> Vertices:
    """``after``, except where triangles cross another: their corners' moves from ``before``
    are first replaced by their neighbours' mean (a kink smoothed out), and where that is not
    enough, undone. Crossings that ``before`` has already are left as they are."""
    start = np.asarray(before, dtype=np.float64)
    moves = np.asarray(after, dtype=np.float64) - start
    f = np.asarray(faces)
    pairs = crossing_pairs(start + moves, f)
    if len(pairs) == 0:
        return start + moves
    already = _keys(crossing_pairs(start, f), len(f))
    pairs = _new(pairs, already, len(f))
    if len(pairs) == 0:
        return start + moves
    neighbours = umbrella_operator(f, len(start))
    corners = np.unique(f[pairs.ravel()])
    moves[corners] = (neighbours @ moves)[corners]
    # Where that is not enough, undo the moves of a ring around each crossing (its neighbours
    # may be what it hits), again until none is left.
    for _ in range(_UNDO_ROUNDS):
        pairs = _new(crossing_pairs(start + moves, f), already, len(f))
        if len(pairs) == 0:
            break
        ring = np.zeros(len(start), dtype=bool)
        ring[np.unique(f[pairs.ravel()])] = True
        ring |= (neighbours @ ring.astype(np.float64)) > 0
        if not moves[ring].any():
            break
        moves[ring] = 0.0
    result: Vertices = start + moves
    return result


def _keys(pairs: npt.NDArray[np.intp], count: int) -> npt.NDArray[np.int64]:
    low, high = pairs.min(axis=1, initial=0), pairs.max(axis=1, initial=0)
    keys: npt.NDArray[np.int64] = np.asarray(low, dtype=np.int64) * count + high
    return keys


def _new(pairs: npt.NDArray[np.intp], already: npt.NDArray[np.int64], count: int
         ) -> npt.NDArray[np.intp]:
    """The pairs that do not cross already in the surface before the moves."""
    if len(pairs) == 0 or len(already) == 0:
        return pairs
    return pairs[~np.isin(_keys(pairs, count), already)]


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
