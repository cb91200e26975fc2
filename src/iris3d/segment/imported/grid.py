"""Put an imported segmentation on the CT's voxel grid, or say why it does not belong to that CT.

Accepted: the same grid (shape and affine), or any grid in the same physical space, which is
resampled with nearest neighbour so label ids stay exact. Refused: a segmentation whose labelled
voxels mostly fall outside the CT, which means it was made from another study or lost its
geometry (an identity affine, for instance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.geometry import reorient_to_ras, transform_points
from iris3d.segment.base import SegmentationError
from iris3d.volume import CTVolume

SAME_GRID_TOLERANCE_MM = 0.01
MIN_INSIDE_FRACTION = 0.9
_SAMPLE_POINTS = 200_000  # enough to measure the inside fraction to well under a percent


class GeometryMismatchError(SegmentationError):
    """The segmentation does not lie in the CT's physical space."""


def same_grid(
    shape: tuple[int, ...], affine: npt.NDArray[np.float64], volume: CTVolume
) -> bool:
    return tuple(shape) == volume.shape and bool(
        np.allclose(affine, volume.affine, atol=SAME_GRID_TOLERANCE_MM)
    )


def onto_ct_grid(
    array: npt.NDArray[np.integer], affine: npt.NDArray[np.float64], volume: CTVolume, what: str
) -> tuple[npt.NDArray[np.integer], bool]:
    """``array`` on ``volume``'s grid, and whether it had to be resampled."""
    array, affine = reorient_to_ras(array, affine)
    if same_grid(array.shape, affine, volume):
        return array, False
    _check_inside(array, affine, volume, what)
    ct_to_seg = np.linalg.inv(affine) @ volume.affine
    resampled = ndimage.affine_transform(
        array,
        ct_to_seg[:3, :3],
        offset=ct_to_seg[:3, 3],
        output_shape=volume.shape,
        order=0,
        mode="constant",
        cval=0,
        prefilter=False,
    )
    return resampled, True


def _check_inside(
    array: npt.NDArray[np.integer], affine: npt.NDArray[np.float64], volume: CTVolume, what: str
) -> None:
    labelled = np.flatnonzero(array)
    if labelled.size == 0:
        raise SegmentationError(f"{what} has no labelled voxels")
    step = max(1, labelled.size // _SAMPLE_POINTS)
    ijk = np.column_stack(np.unravel_index(labelled[::step], array.shape)).astype(np.float64)
    in_ct = transform_points(np.linalg.inv(volume.affine) @ affine, ijk)
    half = 0.5 + 1e-6
    inside = np.all((in_ct >= -half) & (in_ct <= np.asarray(volume.shape) - 1 + half), axis=1)
    fraction = float(inside.mean())
    if fraction < MIN_INSIDE_FRACTION:
        raise GeometryMismatchError(
            f"{what} does not match the CT: only {fraction:.0%} of its labelled voxels lie inside "
            f"the CT's field of view (segmentation spans {_extent(array.shape, affine)}, CT spans "
            f"{_extent(volume.shape, volume.affine)}). Use the segmentation made from this study, "
            "with its original geometry."
        )


def _extent(shape: tuple[int, ...], affine: npt.NDArray[np.float64]) -> str:
    corners = np.array([[i, j, k] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1)
                        for k in (0, shape[2] - 1)], dtype=np.float64)
    xyz = transform_points(affine, corners)
    low, high = xyz.min(axis=0), xyz.max(axis=0)
    return ", ".join(f"{axis} {lo:.0f}..{hi:.0f}" for axis, lo, hi in zip("xyz", low, high,
                                                                          strict=True)) + " mm"


@dataclass(frozen=True)
class PaintedMasks:
    """Binary masks painted into one label array on the CT's grid, later masks on top."""

    labels: npt.NDArray[np.integer]
    overlapping_voxels: int
    resampled: bool


def paint_masks(
    masks: Iterable[tuple[str, npt.NDArray[np.uint8], npt.NDArray[np.float64], str]],
    volume: CTVolume,
    ids: dict[str, int],
) -> PaintedMasks:
    """Paint each ``(name, mask, affine, where)`` onto ``volume``'s grid as ``ids[name]``.

    Empty masks are skipped (TotalSegmentator writes one for every structure it did not find);
    ``where`` names the source in error messages.
    """
    labels = np.zeros(volume.shape, dtype=np.uint16 if max(ids.values()) > 255 else np.uint8)
    overlap = 0
    resampled_any = False
    for name, mask, affine, where in masks:
        if not mask.any():
            continue
        on_grid, resampled = onto_ct_grid(mask, affine, volume, where)
        resampled_any |= resampled
        inside = on_grid.astype(bool)
        overlap += int(np.count_nonzero(labels[inside]))
        labels[inside] = ids[name]
    return PaintedMasks(labels, overlap, resampled_any)
