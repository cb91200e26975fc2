"""Binary morphology on the engine's grids, in millimetres, built on scipy.ndimage.

Large structuring elements are slow in scipy, so dilation/erosion by a radius use distance
transforms; "2d" variants act within each axial slice (k), never across slices.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

Mask = npt.NDArray[np.bool_]
Spacing = tuple[float, float, float]

# 2D connectivity inside each axial slice, as a 3D structure so one call labels every slice.
SLICE_CROSS = np.zeros((3, 3, 3), dtype=bool)
SLICE_CROSS[:, :, 1] = ndimage.generate_binary_structure(2, 1)
SLICE_SQUARE = np.zeros((3, 3, 3), dtype=bool)
SLICE_SQUARE[:, :, 1] = True
FACES = ndimage.generate_binary_structure(3, 1)

_FAR = 1e6  # a z spacing no in-plane distance can reach: makes 3D transforms slice-wise


def _sampling(spacing: Spacing, in_plane: bool) -> tuple[float, float, float]:
    return (spacing[0], spacing[1], _FAR if in_plane else spacing[2])


def dilate(mask: Mask, radius_mm: float, spacing: Spacing, in_plane: bool = False) -> Mask:
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    distance = ndimage.distance_transform_edt(~mask, sampling=_sampling(spacing, in_plane))
    result: Mask = distance <= radius_mm
    return result


def erode(mask: Mask, radius_mm: float, spacing: Spacing, in_plane: bool = False) -> Mask:
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    # The side edges of the field of view erode; the first and last slices cut the body and so
    # do not (no padding along k).
    padded = np.pad(mask, ((1, 1), (1, 1), (0, 0)))
    distance = ndimage.distance_transform_edt(padded, sampling=_sampling(spacing, in_plane))
    result: Mask = distance[1:-1, 1:-1, :] > radius_mm
    return result


def close(mask: Mask, radius_mm: float, spacing: Spacing, in_plane: bool = False) -> Mask:
    return erode(dilate(mask, radius_mm, spacing, in_plane), radius_mm, spacing, in_plane)


def fill_holes_2d(mask: Mask) -> Mask:
    """Fill what each axial slice's mask encloses (one labelling pass for the whole volume)."""
    background, count = ndimage.label(~mask, structure=SLICE_CROSS)
    reaches_edge = np.zeros(count + 1, dtype=bool)
    for face in (background[0], background[-1], background[:, 0], background[:, -1]):
        reaches_edge[face] = True
    hole = ~reaches_edge
    hole[0] = False
    result: Mask = mask | hole[background]
    return result


def label_max(
    values: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], count: int
) -> npt.NDArray[np.float64]:
    """The largest of ``values`` in each component 1..count (scipy's sorts; this does not)."""
    inside = labels > 0
    result = np.full(count + 1, -np.inf)
    np.maximum.at(result, labels[inside], values[inside])
    return result[1:]
