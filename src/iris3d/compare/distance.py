"""Signed distance from the base's surface of a structure to the follow-up's, at each vertex.

The base structure's signed distance field (mm) is computed on its voxel grid with scipy's
exact Euclidean distance transform (voxel spacing honoured): negative inside, positive outside.
The follow-up's mesh vertices, moved into the base's frame, sample it trilinearly. Positive
means the follow-up's surface lies outside the base's: growth there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.volume import LabelMap

_PAD = 3  # voxels of margin around the structure and the vertices
_MARGIN = 16  # how far past the grid's edge the field is computed; beyond it, extrapolated


@dataclass(frozen=True)
class DistanceSummary:
    """Signed distances of one surface in mm, weighted by the area around each vertex."""

    mean_mm: float
    p5_mm: float
    p95_mm: float
    max_abs_mm: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": round(self.mean_mm, 3), "p5": round(self.p5_mm, 3),
                "p95": round(self.p95_mm, 3), "max_abs": round(self.max_abs_mm, 3)}


def signed_distance_field(
    mask: npt.NDArray[np.bool_], spacing: tuple[float, float, float]
) -> npt.NDArray[np.float32]:
    """Millimetres to the mask's boundary: negative inside, positive outside.

    The boundary lies half a voxel from the centres that bound it, so each voxel's distance to
    the nearest centre of the other kind is shortened by half a voxel along that direction:
    the field then crosses zero on the voxels' faces and grows one millimetre per millimetre.
    """
    h = np.asarray(spacing, dtype=np.float64)
    field = np.zeros(mask.shape, dtype=np.float32)
    if not mask.any():
        field[...] = np.inf
        return field
    isotropic = bool(np.allclose(h, h[0]))
    for inside, sign in ((mask, -1.0), (~mask, 1.0)):
        if not inside.any():
            continue
        # Distances from every voxel of this kind to the nearest voxel of the other kind.
        if isotropic:
            distance = ndimage.distance_transform_edt(inside, sampling=h)
            half_voxel: npt.NDArray[np.float64] | float = 0.5 * float(h[0])
        else:
            distance, nearest = ndimage.distance_transform_edt(inside, sampling=h,
                                                               return_indices=True)
            half_voxel = _half_voxel(nearest, distance, h)
        field[inside] = (sign * (distance - half_voxel))[inside]
    return field


def _half_voxel(nearest: npt.NDArray[np.integer], distance: npt.NDArray[np.float64],
                h: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Half a voxel's extent along the direction to the nearest voxel: 0.5 |u * h|."""
    total = np.zeros(distance.shape, dtype=np.float64)
    for axis, n in enumerate(distance.shape):
        shape = [1, 1, 1]
        shape[axis] = n
        step_mm = (nearest[axis] - np.arange(n).reshape(shape)) * h[axis]  # along this axis
        total += (step_mm * h[axis]) ** 2
    result: npt.NDArray[np.float64] = 0.5 * np.sqrt(total) / np.maximum(distance, 1e-9)
    return result


def structure_boxes(labels: LabelMap) -> dict[int, tuple[slice, ...]]:
    """Each present label's bounding box (index slices), found in one pass."""
    boxes = ndimage.find_objects(labels.array)
    return {n + 1: box for n, box in enumerate(boxes) if box is not None}


def surface_signed_distance(
    labels: LabelMap,
    label: int,
    points_ras: npt.NDArray[np.floating],
    box: tuple[slice, ...] | None = None,
) -> npt.NDArray[np.float32]:
    """The signed distance (mm) from structure ``label`` of ``labels`` at each (N, 3) point.

    ``box`` is the structure's bounding box (:func:`structure_boxes`), found here if not given.
    The field is computed on a crop around the structure and the points; points beyond the
    crop add their distance to it.
    """
    if box is None:
        box = structure_boxes(labels).get(label)
        if box is None:
            raise ValueError(f"label {label} is not in the label map")
    points = np.asarray(points_ras, dtype=np.float64).reshape(-1, 3)
    inverse = np.linalg.inv(labels.affine)
    ijk = points @ inverse[:3, :3].T + inverse[:3, 3]
    shape = np.asarray(labels.shape)
    low = np.asarray([s.start for s in box]) - _PAD
    high = np.asarray([s.stop for s in box]) + _PAD
    if len(ijk):
        low = np.minimum(low, np.floor(ijk.min(axis=0)).astype(int) - _PAD)
        high = np.maximum(high, np.ceil(ijk.max(axis=0)).astype(int) + 1 + _PAD)
    low = np.maximum(low, -_MARGIN)
    high = np.minimum(high, shape + _MARGIN)
    crop = np.zeros(high - low, dtype=bool)
    src_low, src_high = np.maximum(low, 0), np.minimum(high, shape)
    crop[tuple(slice(a - o, b - o) for a, b, o in zip(src_low, src_high, low, strict=True))] = (
        labels.array[tuple(slice(a, b) for a, b in zip(src_low, src_high, strict=True))] == label)
    spacing = np.linalg.norm(labels.affine[:3, :3], axis=0)
    field = signed_distance_field(crop, (float(spacing[0]), float(spacing[1]), float(spacing[2])))
    local = ijk - low
    clamped = np.clip(local, 0, np.asarray(crop.shape) - 1)
    beyond_mm = np.linalg.norm((local - clamped) * spacing, axis=1)
    sampled = ndimage.map_coordinates(field, clamped.T, order=1, mode="nearest")
    result: npt.NDArray[np.float32] = (sampled + beyond_mm).astype(np.float32)
    return result


def inside_both_scans(
    points_ras: npt.NDArray[np.floating],
    grids: tuple[LabelMap, LabelMap],
    follow_to_base: npt.NDArray[np.float64],
    margin_voxels: float = 1.0,
) -> npt.NDArray[np.bool_]:
    """Which points (base RAS+ mm) lie at least ``margin_voxels`` inside both scans' grids
    (base, follow-up). A structure cut by a scan's edge has a flat cap there that is no
    surface of the organ, and beyond the other scan's edge there is nothing to measure against."""
    points = np.asarray(points_ras, dtype=np.float64).reshape(-1, 3)
    base, follow = grids
    base_to_follow = np.linalg.inv(follow_to_base)
    inside = np.ones(len(points), dtype=bool)
    for grid, to_grid in ((base, np.eye(4)), (follow, base_to_follow)):
        mapping = np.linalg.inv(grid.affine) @ to_grid
        ijk = points @ mapping[:3, :3].T + mapping[:3, 3]
        upper = np.asarray(grid.shape) - 1 - margin_voxels
        inside &= np.all((ijk >= margin_voxels) & (ijk <= upper), axis=1)
    return inside


def surface_samples(vertices: npt.NDArray[np.floating], faces: npt.NDArray[np.integer]
                    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points and area weights that average a quantity over the surface without bias: each
    edge's midpoint, weighted by a third of its triangles' areas (exact for quadratics, where
    vertices alone would favour the outside of a decimated convex surface)."""
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    unique, which = np.unique(edges, axis=0, return_inverse=True)
    weights = np.bincount(which.ravel(), weights=np.tile(_face_areas(v, f) / 3.0, 3),
                          minlength=len(unique))
    return (v[unique[:, 0]] + v[unique[:, 1]]) / 2.0, weights.astype(np.float64)


def _face_areas(vertices: npt.NDArray[np.floating], faces: npt.NDArray[np.integer]
                ) -> npt.NDArray[np.float64]:
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces, dtype=np.int64)
    cross = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    result: npt.NDArray[np.float64] = 0.5 * np.linalg.norm(cross, axis=1)
    return result


def summarise(
    distances: npt.NDArray[np.floating],
    weights: npt.NDArray[np.floating],
    vertex_distances: npt.NDArray[np.floating] | None = None,
) -> DistanceSummary:
    """Weighted mean and 5th/95th percentiles (of :func:`surface_samples`' points) and the
    largest absolute distance (of those and of ``vertex_distances``)."""
    d = np.asarray(distances, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(d)
    order = np.argsort(d)
    cumulative = np.cumsum(w[order]) / w.sum()
    ranks = np.minimum(np.searchsorted(cumulative, [0.05, 0.95]), len(d) - 1)
    p5, p95 = (float(v) for v in d[order][ranks])
    extremes = d if vertex_distances is None else np.concatenate([d, vertex_distances])
    return DistanceSummary(mean_mm=float(np.average(d, weights=w)), p5_mm=p5, p95_mm=p95,
                           max_abs_mm=float(np.abs(extremes).max()))
