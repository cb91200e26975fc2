"""Measures of a triangle mesh: volume, area, centroid, normals. Pure numpy, any units.

Faces are counter-clockwise seen from outside, so the signed volume of a closed surface is
positive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vertices = npt.NDArray[np.floating]
Faces = npt.NDArray[np.integer]


def _corners(vertices: Vertices, faces: Faces) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    v = np.asarray(vertices, dtype=np.float64)
    return v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]


def face_area_vectors(vertices: Vertices, faces: Faces) -> npt.NDArray[np.float64]:
    """(M, 3) face normals scaled by twice the face area."""
    a, b, c = _corners(vertices, faces)
    return np.cross(b - a, c - a)


def signed_volume(vertices: Vertices, faces: Faces) -> float:
    """Enclosed volume (cubic units of the vertices); exact for a closed, outward-facing mesh."""
    if len(faces) == 0:
        return 0.0
    a, b, c = _corners(vertices, faces)
    return float(np.einsum("ij,ij->", a, np.cross(b, c)) / 6.0)


def volume_and_area(vertices: Vertices, faces: Faces) -> tuple[float, float]:
    """Signed enclosed volume and surface area in one pass over the faces."""
    if len(faces) == 0:
        return 0.0, 0.0
    a, b, c = _corners(vertices, faces)
    cross = np.cross(b - a, c - a)
    # (a . (b x c)) = (a . ((b - a) x (c - a))): one cross product serves both sums.
    volume = float(np.einsum("ij,ij->", a, cross) / 6.0)
    return volume, float(np.sqrt(np.einsum("ij,ij->i", cross, cross)).sum() / 2.0)


def surface_area(vertices: Vertices, faces: Faces) -> float:
    if len(faces) == 0:
        return 0.0
    return float(np.linalg.norm(face_area_vectors(vertices, faces), axis=1).sum() / 2.0)


def volume_centroid(vertices: Vertices, faces: Faces) -> npt.NDArray[np.float64]:
    """Centre of mass of the solid the closed mesh encloses (not the mean of its vertices)."""
    a, b, c = _corners(vertices, faces)
    # Each face and the origin form a tetrahedron; the solid is their signed sum.
    tet_volume = np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0
    total = tet_volume.sum()
    if abs(total) < 1e-12:
        mean: npt.NDArray[np.float64] = np.asarray(vertices, dtype=np.float64).mean(axis=0)
        return mean
    centroid: npt.NDArray[np.float64] = (tet_volume[:, None] * (a + b + c)).sum(axis=0) / (
        4.0 * total
    )
    return centroid


def face_normals(vertices: Vertices, faces: Faces) -> npt.NDArray[np.float64]:
    """(M, 3) unit normals; zero for degenerate faces."""
    n = face_area_vectors(vertices, faces)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(n, length, out=np.zeros_like(n), where=length > 0)
    return unit


def vertex_normals(vertices: Vertices, faces: Faces) -> npt.NDArray[np.float32]:
    """(N, 3) area-weighted unit normals (for shading)."""
    n = face_area_vectors(vertices, faces)
    acc = np.zeros((len(vertices), 3), dtype=np.float64)
    for corner in range(3):
        for axis in range(3):
            acc[:, axis] += np.bincount(faces[:, corner], weights=n[:, axis],
                                        minlength=len(vertices))
    length = np.linalg.norm(acc, axis=1, keepdims=True)
    unit = np.divide(acc, length, out=np.zeros_like(acc), where=length > 0)
    unit[length[:, 0] == 0] = (0.0, 0.0, 1.0)
    result: npt.NDArray[np.float32] = unit.astype(np.float32)
    return result


def mean_edge_length(vertices: Vertices, faces: Faces, sample: int = 50_000) -> float:
    """Mean length of the polygons' sides (faces of any fixed size), from up to ``sample``
    evenly spread faces."""
    if len(faces) == 0:
        return 0.0
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces)[:: max(1, len(faces) // sample)]
    sides = v[np.roll(f, -1, axis=1).ravel()] - v[f.ravel()]
    return float(np.sqrt(np.einsum("ij,ij->i", sides, sides)).mean())
