"""Surfaces across thick slices by shape-based interpolation (Raya & Udupa 1990; Herman 1992).

On a scan whose slices are several times thicker than its pixels, the label map's boundary is
known within a pixel inside each slice but only to within a slice between them: Surface Nets
puts every wall half-way between two slices, and the surface is a stack of terraces that
smoothing cannot take away without taking the shape too. Here each slice's boundary is turned
into a signed distance within the slice (millimetres, negative inside), the distances are
interpolated linearly from slice to slice, and the surface is where the interpolated distance
is zero: a wall leans from one slice's contour to the next, and a structure's ends are
rounded. Two structures' interpolated regions never overlap (where one is inside at both
slices' distances the other is outside), so neighbours stay apart.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import distance_transform_edt

from iris3d.mesh import _vtk
from iris3d.mesh.grid import LabelCrop

_MIN_RATIO = 2.0  # a slice this many times thicker than the next coarsest axis is thick
_MAX_STEPS = 4  # samples per slice gap along the thick axis, at most (more: no better)
_MAX_SAMPLES = 1 << 25  # of one structure's resampled field (128 MB of float32)
CAP_CELLS = 1.0  # distances clipped to this many slice thicknesses (rounds a structure's ends)
# The quality level's base pass band is widened this much for the resampled surface where the
# filter has at least SHARP_TERMS terms (measured on benchmarks/surface_fidelity.py, `high`:
# the organ at 3 mm slices 0.222 mm RMS at 1x, 0.138 at 2x, 0.119 at 3x, 0.120 at 4x; `normal`
# 0.197 at 1x, 0.150 at 3x). The `fast` level's 20-term filter is broad already: at 3x the
# phantom's liver at 5 mm slices was 0.17 mm further from its 1 mm surface, the sphere 0.02.
INTERPOLATED_PASSBAND = 3.0
SHARP_TERMS = 40


def thick_axis(cell_mm: npt.NDArray[np.float64]) -> int | None:
    """The axis whose label cells are at least twice as thick as the others', if any."""
    order = np.argsort(cell_mm)
    if cell_mm[order[2]] >= _MIN_RATIO * cell_mm[order[1]]:
        return int(order[2])
    return None


def interpolated_surface(
    crop: LabelCrop, label: int, cell_mm: npt.NDArray[np.float64], axis: int,
    slice_count: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """``label``'s surface interpolated across the slices along ``axis``: triangles (facing
    out) and their points in the full volume's [i, j, k]. ``cell_mm``: the label cells' edges
    along each axis of ``crop``; ``slice_count``: the volume's slices along ``axis`` (a
    structure the scan cuts off is cut flat at its edge, as the labels' surface is)."""
    inside = crop.array == label
    where = [np.flatnonzero(inside.any(axis=others)) for others in ((1, 2), (0, 2), (0, 1))]
    if any(len(w) == 0 for w in where):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    # The crop has a background border, so the label's box grown by one cell stays inside it.
    low = np.array([max(int(w[0]) - 1, 0) for w in where])
    high = [min(int(w[-1]) + 2, n) for w, n in zip(where, crop.array.shape, strict=True)]
    mask = inside[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    # Fewer samples across the slices for a very large box (the body's outline), none (the
    # caller keeps the labels' surface) where even two would hold too much memory.
    steps = min(_steps(cell_mm, axis), _MAX_SAMPLES // max(mask.size, 1))
    if steps < 2:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    distance = _slice_distance(mask, cell_mm, axis)
    field = _resampled(distance, axis, steps)
    # The box's outer slices along the axis: outside the scan where the structure touches
    # its first or last slice.
    ends = np.zeros((2, 3))
    ends[:, axis] = (low[axis], high[axis] - 1)
    beyond = crop.to_volume(ends)[:, axis]
    field = _cut_flat(field, axis, steps, (bool(beyond[0] < 0), bool(beyond[1] > slice_count - 1)),
                      CAP_CELLS * float(cell_mm[axis]))
    points, triangles = _vtk.iso_surface(field, 0.0)
    if len(triangles) == 0:
        return points, triangles
    # Fine sample s along the axis lies at the box's coordinate s / steps.
    points[:, axis] /= steps
    points = crop.to_volume(points + low).astype(np.float64)
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    if np.einsum("ij,ij->", a, np.cross(b, c)) < 0:
        triangles = np.ascontiguousarray(triangles[:, ::-1])
    return points, triangles


def _cut_flat(field: npt.NDArray[np.float32], axis: int, steps: int, cut: tuple[bool, bool],
              outside: float) -> npt.NDArray[np.float32]:
    """``field`` with the structure running on unchanged to the scan's edge, half a slice past
    its outer slice (the samples there copy that slice's), and cut flat there, as the labels'
    surface is."""
    moved = np.moveaxis(field, axis, 0)  # a view: writes go to ``field``
    for at_end in (False, True):
        if not cut[int(at_end)]:
            continue
        view = moved[::-1] if at_end else moved  # the box's outer slice first
        edge = view[steps].copy()  # the scan's outer slice (the box's slices every ``steps``)
        face = steps // 2  # the last sample not past the scan's edge, half a slice out
        view[face + 1:steps] = edge
        # Its value puts the crossing on the edge itself (between it and the next sample).
        share = (0.5 * steps - face) / (face + 1 - 0.5 * steps)
        view[face] = np.where(edge < 0, np.maximum(-edge * share, 1e-3 * outside), outside)
        view[:face] = outside
    return field


def _steps(cell_mm: npt.NDArray[np.float64], axis: int) -> int:
    """Samples per slice gap that make the grid about as fine across the slices as within
    them: the smoothing filter works on the mesh's graph, and on a mesh with edges several
    times longer across the slices the structure's own shape falls in its stop band."""
    within = float(np.median(np.delete(cell_mm, axis)))
    return int(np.clip(np.rint(cell_mm[axis] / within), 1, _MAX_STEPS))


def _slice_distance(mask: npt.NDArray[np.bool_], cell_mm: npt.NDArray[np.float64],
                    axis: int) -> npt.NDArray[np.float32]:
    """Signed distance (mm) within each slice across ``axis``: +1 pixel either side of the
    boundary and growing away from it, clipped so that a slice without the structure reads
    as just outside it (its neighbour's contour then closes half-way, rounded)."""
    cap = CAP_CELLS * float(cell_mm[axis])
    pixel = tuple(float(c) for c in np.delete(np.asarray(cell_mm, dtype=np.float64), axis))
    slices = np.moveaxis(mask, axis, 0)
    out = np.full(slices.shape, cap, dtype=np.float32)
    for n, inside in enumerate(slices):
        if not inside.any():
            continue  # the box's border keeps every slice's outside non-empty
        signed = distance_transform_edt(~inside, sampling=pixel)
        signed -= distance_transform_edt(inside, sampling=pixel)
        out[n] = np.clip(signed, -cap, cap)
    return np.ascontiguousarray(np.moveaxis(out, 0, axis))


def _resampled(distance: npt.NDArray[np.float32], axis: int, steps: int
               ) -> npt.NDArray[np.float32]:
    """``distance`` linearly interpolated to ``steps`` samples per slice gap along ``axis``."""
    if steps == 1:
        return distance
    moved = np.moveaxis(distance, axis, 0)
    count = moved.shape[0]
    position = np.arange((count - 1) * steps + 1) / steps
    below = np.minimum(position.astype(np.int64), count - 2)
    weight = (position - below).astype(np.float32)[:, None, None]
    fine = (1.0 - weight) * moved[below] + weight * moved[below + 1]
    return np.ascontiguousarray(np.moveaxis(fine, 0, axis))
