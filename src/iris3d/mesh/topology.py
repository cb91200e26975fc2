"""Connectivity of triangle meshes: compaction and the closed-manifold test used for printing."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

Faces = npt.NDArray[np.integer]


def compact(
    vertices: npt.NDArray[np.floating], faces: Faces
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.int32]]:
    """Keep only the vertices that ``faces`` (polygons of any fixed size) use, renumbered.

    Linear time (no sort): each vertex id records its last corner, so all corners of one vertex
    agree on a representative.
    """
    f = np.asarray(faces)
    corners = f.ravel()
    if corners.size == 0:
        return vertices[:0], np.zeros((0, f.shape[1] if f.ndim == 2 else 3), dtype=np.int32)
    index = np.int32 if corners.size < 2**31 else np.int64  # half the memory traffic
    position = np.arange(corners.size, dtype=index)
    representative = np.empty(len(vertices), dtype=index)
    representative[corners] = position
    rep_of_corner = representative[corners]
    is_rep = rep_of_corner == position
    new_index = np.cumsum(is_rep, dtype=index) - 1
    new_faces = new_index[rep_of_corner].reshape(f.shape).astype(np.int32, copy=False)
    return vertices[corners[is_rep]], new_faces


def is_closed_manifold(faces: Faces, vertex_count: int | None = None) -> bool:
    """True when the mesh is watertight and manifold, as a 3D printer needs.

    Every directed edge appears once and its reverse once (so each edge joins exactly two
    consistently oriented faces), no face is degenerate, and the faces around each vertex form a
    single fan (no two sheets meeting at a point).
    """
    f = np.asarray(faces, dtype=np.int64)
    if len(f) < 4:
        return False
    if np.any((f[:, 0] == f[:, 1]) | (f[:, 1] == f[:, 2]) | (f[:, 0] == f[:, 2])):
        return False
    n = int(vertex_count if vertex_count is not None else f.max() + 1)
    tail = f.ravel()  # half-edge h = 3 * face + corner goes tail -> head
    head = np.roll(f, -1, axis=1).ravel()
    key = tail * n + head
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    if np.any(sorted_key[1:] == sorted_key[:-1]):
        return False
    twin_pos = np.searchsorted(sorted_key, head * n + tail)
    twin_pos = np.minimum(twin_pos, len(sorted_key) - 1)
    if np.any(sorted_key[twin_pos] != head * n + tail):
        return False
    twin = order[twin_pos]
    # Rotating around a vertex: from half-edge h (v -> w), the previous half-edge of h's face
    # ends at v; its twin starts at v. Each vertex must be one orbit of this permutation.
    half = np.arange(len(tail))
    prev = half - half % 3 + (half % 3 + 2) % 3
    nxt = twin[prev]
    graph = coo_matrix((np.ones(len(half), dtype=np.int8), (half, nxt)), shape=(len(half),) * 2)
    orbits, _ = connected_components(graph, directed=True, connection="weak")
    return bool(orbits == len(np.unique(tail)))


def holes(faces: Faces, vertex_count: int) -> int:
    """Holes through a closed, manifold triangle surface, summed over its parts (its genus):
    from Euler's formula V - E + F = 2 (parts - holes), with E = 3F / 2."""
    f = np.asarray(faces, dtype=np.int64)
    used = np.unique(f)
    tail, head = f.ravel(), np.roll(f, -1, axis=1).ravel()
    graph = coo_matrix((np.ones(len(tail), dtype=np.int8), (tail, head)),
                       shape=(vertex_count, vertex_count))
    parts = connected_components(graph, directed=False)[0] - (vertex_count - len(used))
    euler = len(used) - len(f) // 2
    return int(parts - euler // 2)
