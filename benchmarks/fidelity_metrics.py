"""How close a triangle mesh is to an analytic surface, and whether it is fit to print.

Used by ``surface_fidelity.py``: area-weighted distance to the true surface (RMS, p99), volume,
normal error, components and genus, open or non-manifold edges, and self-intersections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from fidelity_shapes import Sdf
from iris3d.mesh.selfcross import crossing_pairs

Array = npt.NDArray[np.float64]
Faces = npt.NDArray[np.int64]

# Barycentric sample points per triangle (centroid and three inner points), equal weights.
_BARY = np.array([[1 / 3, 1 / 3, 1 / 3], [2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6],
                  [1 / 6, 1 / 6, 2 / 3]])


@dataclass(frozen=True)
class Fidelity:
    rms_mm: float
    p99_mm: float
    volume_mm3: float
    normal_deg: float
    components: int
    genus: int
    open_edges: int  # boundary or non-manifold edges: holes a printer cannot close
    self_intersections: int


def measure(vertices: Array, faces: Faces, sdf: Sdf) -> Fidelity:
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    if _signed_volume(v, f) < 0:
        f = f[:, ::-1]
    corners = v[f]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    area = 0.5 * np.linalg.norm(cross, axis=1)
    points = np.einsum("sk,tkd->tsd", _BARY, corners).reshape(-1, 3)
    weights = np.repeat(area / len(_BARY), len(_BARY))
    distance = np.abs(sdf(points))
    rms = float(np.sqrt(np.sum(weights * distance**2) / weights.sum()))
    order = np.argsort(distance)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    p99 = float(distance[order][np.searchsorted(cumulative, 0.99)])
    centroid = corners.mean(axis=1)
    normal = cross / np.maximum(np.linalg.norm(cross, axis=1), 1e-12)[:, None]
    truth = _gradient(sdf, centroid)
    angle = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", normal, truth), -1, 1)))
    components, genus, open_edges = _topology(f, len(v))
    return Fidelity(rms, p99, _signed_volume(v, f), float(np.sum(angle * area) / area.sum()),
                    components, genus, open_edges, self_intersections(v, f))


def _signed_volume(v: Array, f: Faces) -> float:
    return float(np.einsum("ij,ij->", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])) / 6.0)


def _gradient(sdf: Sdf, p: Array, h: float = 0.02) -> Array:
    g = np.stack([sdf(p + h * e) - sdf(p - h * e) for e in np.eye(3)], axis=1)
    return np.asarray(g / np.maximum(np.linalg.norm(g, axis=1), 1e-12)[:, None])


def _topology(f: Faces, vertex_count: int) -> tuple[int, int, int]:
    """Connected components, total genus (from the Euler characteristic), and edges not shared
    by exactly two triangles."""
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    unique, uses = np.unique(edges, axis=0, return_counts=True)
    used = np.unique(f)
    graph = coo_matrix((np.ones(len(unique)), (unique[:, 0], unique[:, 1])),
                       shape=(vertex_count, vertex_count))
    _, label = connected_components(graph, directed=False)
    components = len(np.unique(label[used]))
    euler = len(used) - len(unique) + len(f)
    return components, (2 * components - euler) // 2, int(np.sum(uses != 2))


def self_intersections(v: Array, f: Faces) -> int:
    """Pairs of triangles with no shared vertex whose interiors cross."""
    return len(crossing_pairs(v, f))


def cross_intersections(v1: Array, f1: Faces, v2: Array, f2: Faces) -> int:
    """Triangles of two meshes crossing each other (merged or overlapping neighbours)."""
    v = np.concatenate([v1, v2])
    f = np.concatenate([f1, f2 + len(v1)])
    return self_intersections(v, f) - self_intersections(v1, f1) - self_intersections(v2, f2)
