"""How a series' slices stack into a volume, decided from their headers before any pixel is read.

The stacked array is indexed ``[column, row, slice]`` (DICOM's row direction first) with slices
sorted along the slice normal; :class:`StackPlan` holds its affine in LPS millimetres and, when the
slices do not form a regular orthogonal grid, how they are resampled onto one:

- positions that jitter by up to ``min(10 % of the spacing, 0.1 mm)`` count as regular;
- a gap wider than 1.5 times the usual spacing is a missing slice: refused, naming where it is,
  because interpolating across it would invent anatomy;
- otherwise uneven spacing is resampled to the median spacing by linear interpolation between the
  two nearest slices (what a radiologist's viewer does), with a warning;
- gantry tilt (slices that move sideways as they advance) is resampled onto an orthogonal grid whose
  slices are perpendicular to the table, with a warning; tilt together with uneven spacing, or
  slices that wander sideways irregularly, are refused.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.ingest.dicom_scan import SliceHeader
from iris3d.ingest.errors import IrregularGeometryError, NotAVolumeError

_SAME_POSITION_MM = 1e-3
_ORIENTATION_TOLERANCE = 5e-4
_MAX_GAP_RATIO = 1.5
# Sideways drift over the whole stack below this fraction of a pixel is rounding, not tilt.
_TILT_DRIFT_PIXELS = 0.05
_MAX_TILT_DEG = 45.0
AIR_HU = -1024.0

Resampling = Literal["none", "uneven", "tilt"]


@dataclass(frozen=True)
class StackPlan:
    """The grid the slices lie on (``source_affine``) and the regular grid Iris returns."""

    source_affine: npt.NDArray[np.float64]  # LPS, of the array [column, row, slice]
    resampling: Resampling
    output_shape: tuple[int, int, int]
    output_affine: npt.NDArray[np.float64]  # LPS
    positions_mm: npt.NDArray[np.float64]  # of each slice along the normal
    warnings: tuple[str, ...] = ()


def check_uniform(slices: Sequence[SliceHeader], uid: str) -> None:
    """Refuse a series whose images differ in size, pixel spacing or in-plane orientation."""
    sizes = Counter((h.rows, h.columns) for h in slices)
    if len(sizes) > 1:
        listed = ", ".join(f"{c}x{r} ({n} images)" for (r, c), n in sizes.most_common())
        raise IrregularGeometryError(
            f"series {uid} mixes image sizes (columns x rows): {listed}; it cannot be stacked "
            "into one volume"
        )
    spacing = np.array([h.pixel_spacing for h in slices])
    if np.ptp(spacing, axis=0).max() > 1e-4 * spacing.max():
        found = sorted({f"{a:g}x{b:g} mm" for a, b in spacing})
        raise IrregularGeometryError(f"series {uid} mixes pixel spacings: {', '.join(found)}")
    orientation = np.array([h.orientation for h in slices])
    if np.abs(orientation - orientation[0]).max() > _ORIENTATION_TOLERANCE:
        raise IrregularGeometryError(
            f"series {uid}: the images are not all oriented the same way "
            "(ImageOrientationPatient differs); it cannot be stacked into one volume"
        )


def sort_along_normal(slices: Sequence[SliceHeader]) -> list[SliceHeader]:
    normal = slices[0].normal
    return sorted(slices, key=lambda h: float(np.dot(h.position, normal)))


def duplicate_runs(slices: Sequence[SliceHeader]) -> list[list[int]]:
    """Indices of sorted slices that share a position, as runs of two or more."""
    positions = np.array([h.position for h in slices])
    runs: list[list[int]] = []
    current = [0]
    for k in range(1, len(slices)):
        if np.linalg.norm(positions[k] - positions[current[0]]) < _SAME_POSITION_MM:
            current.append(k)
            continue
        if len(current) > 1:
            runs.append(current)
        current = [k]
    if len(current) > 1:
        runs.append(current)
    return runs


def plan_stack(slices: Sequence[SliceHeader], uid: str) -> StackPlan:
    """Check the geometry of sorted, de-duplicated, uniform slices and plan the output grid."""
    n = len(slices)
    if n < 2:
        raise NotAVolumeError(f"series {uid} has a single distinct slice position: not a volume")
    first = slices[0]
    row_dir = np.array(first.orientation[:3])
    col_dir = np.array(first.orientation[3:])
    normal = first.normal
    row_spacing, col_spacing = first.pixel_spacing
    positions = np.array([h.position for h in slices], dtype=np.float64)
    along = positions @ normal
    length = float(along[-1] - along[0])
    gaps = np.diff(along)
    if float(gaps.min()) < _SAME_POSITION_MM:
        k = int(np.argmin(gaps))
        raise IrregularGeometryError(
            f"series {uid}: slice index {k} and {k + 1} lie at the same position "
            f"({along[k]:.2f} mm along the slice normal) but are shifted sideways; "
            "they do not form a volume"
        )
    typical = float(np.median(gaps))
    _refuse_gaps(gaps, along, typical, uid)

    step_along = length / (n - 1)
    tolerance = max(1e-3, min(0.1 * step_along, 0.1))
    uneven = float(np.abs(along - (along[0] + step_along * np.arange(n))).max()) > tolerance
    sideways = positions - np.outer(along, normal)
    drift_per_mm = (sideways[-1] - sideways[0]) / length
    expected = sideways[0] + np.outer(along - along[0], drift_per_mm)
    if float(np.linalg.norm(sideways - expected, axis=1).max()) > tolerance:
        raise IrregularGeometryError(
            f"series {uid}: the slices shift sideways irregularly from one to the next; "
            "they do not form a volume"
        )
    tilted = float(np.linalg.norm(drift_per_mm)) * length > _TILT_DRIFT_PIXELS * min(
        row_spacing, col_spacing
    )

    source = np.eye(4)
    source[:3, 0] = row_dir * col_spacing
    source[:3, 1] = col_dir * row_spacing
    source[:3, 2] = (normal + (drift_per_mm if tilted else 0.0)) * step_along
    source[:3, 3] = positions[0]
    shape = (first.columns, first.rows, n)

    if tilted:
        if uneven:
            raise IrregularGeometryError(
                f"series {uid}: gantry tilt together with uneven slice spacing is not supported"
            )
        return _tilt_plan(source, shape, drift_per_mm, along, uid)
    if uneven:
        return _uneven_plan(source, shape, along, gaps, typical)
    return StackPlan(source, "none", shape, source, along)


def _refuse_gaps(
    gaps: npt.NDArray[np.float64], along: npt.NDArray[np.float64], typical: float, uid: str
) -> None:
    wide = np.flatnonzero(gaps > _MAX_GAP_RATIO * typical)
    if wide.size == 0:
        return
    k = int(wide[0])
    missing = max(1, round(float(gaps[k]) / typical) - 1)
    more = f" (and {wide.size - 1} more gap(s))" if wide.size > 1 else ""
    raise IrregularGeometryError(
        f"series {uid}: slice(s) missing: a gap of {gaps[k]:.2f} mm between slice index {k} "
        f"at {along[k]:.2f} mm and slice index {k + 1} at {along[k + 1]:.2f} mm along the slice "
        f"normal, where the spacing is otherwise {typical:.2f} mm (about {missing} slice(s) "
        f"missing; indices count from 0 in position order){more}"
    )


def _uneven_plan(
    source: npt.NDArray[np.float64],
    shape: tuple[int, int, int],
    along: npt.NDArray[np.float64],
    gaps: npt.NDArray[np.float64],
    typical: float,
) -> StackPlan:
    length = float(along[-1] - along[0])
    count = round(length / typical) + 1
    output = source.copy()
    output[:3, 2] = source[:3, 2] / np.linalg.norm(source[:3, 2]) * (length / (count - 1))
    warning = (
        f"uneven slice spacing ({gaps.min():.2f} to {gaps.max():.2f} mm): resampled to a "
        f"regular {length / (count - 1):.3f} mm by linear interpolation between slices"
    )
    return StackPlan(source, "uneven", (shape[0], shape[1], count), output, along, (warning,))


def _tilt_plan(
    source: npt.NDArray[np.float64],
    shape: tuple[int, int, int],
    drift_per_mm: npt.NDArray[np.float64],
    along: npt.NDArray[np.float64],
    uid: str,
) -> StackPlan:
    angle = math.degrees(math.atan(float(np.linalg.norm(drift_per_mm))))
    if angle > _MAX_TILT_DEG:
        raise IrregularGeometryError(
            f"series {uid}: the slices are sheared by {angle:.1f} degrees; not a gantry tilt"
        )
    step = source[:3, 2]
    e3 = step / np.linalg.norm(step)
    row = source[:3, 0] / np.linalg.norm(source[:3, 0])
    col = source[:3, 1] / np.linalg.norm(source[:3, 1])
    e1 = row - float(row @ e3) * e3
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(e3, e1)
    if float(e2 @ col) < 0:
        e2 = -e2
    linear = np.column_stack(
        [e1 * np.linalg.norm(source[:3, 0]), e2 * np.linalg.norm(source[:3, 1]), step]
    )
    corners = np.array(
        [
            [i, j, k]
            for i in (0, shape[0] - 1)
            for j in (0, shape[1] - 1)
            for k in (0, shape[2] - 1)
        ],
        dtype=np.float64,
    )
    world = corners @ source[:3, :3].T  # relative to the first slice's corner
    index = world @ np.linalg.inv(linear).T
    low = np.floor(index.min(axis=0) + 1e-6)
    high = np.ceil(index.max(axis=0) - 1e-6)
    out_shape = tuple(int(h - lo) + 1 for lo, h in zip(low, high, strict=True))
    output = np.eye(4)
    output[:3, :3] = linear
    output[:3, 3] = source[:3, 3] + linear @ low
    warning = (
        f"gantry tilt of {angle:.1f} degrees: resampled onto an orthogonal grid "
        "(linear interpolation)"
    )
    return StackPlan(
        source, "tilt", (out_shape[0], out_shape[1], out_shape[2]), output, along, (warning,)
    )


def resample(plan: StackPlan, array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """The stacked array on the plan's output grid (unchanged when no resampling is needed)."""
    if plan.resampling == "none":
        return array
    values = array.astype(np.float32, copy=False)
    if plan.resampling == "uneven":
        result = _resample_along(values, plan)
    else:
        fill = max(float(values.min()), AIR_HU) if values.size else AIR_HU
        matrix = np.linalg.inv(plan.source_affine) @ plan.output_affine
        result = ndimage.affine_transform(
            values,
            matrix,
            output_shape=plan.output_shape,
            order=1,
            mode="constant",
            cval=fill,
            output=np.float32,
        )
    if np.issubdtype(array.dtype, np.integer):
        return np.rint(result).astype(array.dtype)
    return result


def _resample_along(values: npt.NDArray[np.float32], plan: StackPlan) -> npt.NDArray[np.float32]:
    along = plan.positions_mm
    count = plan.output_shape[2]
    targets = np.linspace(along[0], along[-1], count)
    lower = np.clip(np.searchsorted(along, targets, side="right") - 1, 0, len(along) - 2)
    weight = (targets - along[lower]) / (along[lower + 1] - along[lower])
    out = np.empty(plan.output_shape, dtype=np.float32)
    for m in range(count):
        k, w = int(lower[m]), np.float32(weight[m])
        out[:, :, m] = values[:, :, k] * (1 - w) + values[:, :, k + 1] * w
    return out
