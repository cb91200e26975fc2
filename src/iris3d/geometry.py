"""Affine arithmetic, and the one place where DICOM/ITK's LPS meets NIfTI's RAS.

LPS (DICOM, ITK, 3D Slicer files) and RAS (NIfTI, Iris internally) differ by negating x and y.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import nibabel as nib
import numpy as np
import numpy.typing as npt

LPS_TO_RAS: npt.NDArray[np.float64] = np.diag([-1.0, -1.0, 1.0, 1.0])
"""Multiply on the left: maps LPS points to RAS points and back (it is its own inverse)."""

ArrayT = TypeVar("ArrayT", bound=npt.NDArray[Any])


def lps_to_ras(affine_lps: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """An affine into LPS millimetres, rewritten to map into RAS millimetres."""
    return LPS_TO_RAS @ affine_lps


def ras_to_lps(affine_ras: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return LPS_TO_RAS @ affine_ras


def transform_lps_to_ras(matrix_lps: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A 4x4 point transform between LPS spaces, rewritten between RAS spaces (and back: the
    flip is its own inverse). Unlike an image affine, both sides of the transform flip."""
    return LPS_TO_RAS @ np.asarray(matrix_lps, dtype=np.float64) @ LPS_TO_RAS


transform_ras_to_lps = transform_lps_to_ras


def itk_geometry(
    affine_ras: npt.NDArray[np.float64],
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """(origin, spacing, direction) of an ITK image (LPS) whose index (x, y, z) is Iris's
    (i, j, k) on the grid of ``affine_ras``; direction is the 3x3 cosines, row-major."""
    affine_lps = ras_to_lps(np.asarray(affine_ras, dtype=np.float64))
    spacing = np.linalg.norm(affine_lps[:3, :3], axis=0)
    direction = affine_lps[:3, :3] / spacing
    return (tuple(float(v) for v in affine_lps[:3, 3]), tuple(float(v) for v in spacing),
            tuple(float(v) for v in direction.ravel()))


def points_ras_to_lps(points: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """(N, 3) RAS millimetres to LPS millimetres."""
    flipped = np.array(points, copy=True)
    flipped[:, :2] *= -1
    return flipped


def affine_from_direction(
    origin: npt.ArrayLike, spacing: npt.ArrayLike, direction: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """The affine of an ITK-style image: origin, spacing and 3x3 direction cosines (columns)."""
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(direction, dtype=np.float64).reshape(3, 3) * np.asarray(
        spacing, dtype=np.float64
    )
    affine[:3, 3] = np.asarray(origin, dtype=np.float64)
    return affine


def voxel_spacing(affine: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in np.linalg.norm(affine[:3, :3], axis=0))
    return (x, y, z)


def orientation_codes(affine: npt.NDArray[np.float64]) -> str:
    """Where each voxel axis points, e.g. ``RAS`` or ``LPS`` (nibabel's ``aff2axcodes``)."""
    return "".join(str(c) for c in nib.orientations.aff2axcodes(affine))


def reorient_to_ras(
    array: ArrayT, affine: npt.NDArray[np.float64]
) -> tuple[ArrayT, npt.NDArray[np.float64]]:
    """Flip/transpose the voxel axes so that i, j, k point closest to R, A, S.

    Only axis permutations and flips: no voxel value changes, so HU and labels stay exact.
    """
    current = nib.orientations.io_orientation(affine)
    target = nib.orientations.axcodes2ornt(("R", "A", "S"))
    transform = nib.orientations.ornt_transform(current, target)
    if np.array_equal(transform, [[0, 1], [1, 1], [2, 1]]):
        return array, affine
    turned = nib.orientations.apply_orientation(array, transform)
    new_array = cast(ArrayT, np.ascontiguousarray(turned))
    new_affine = affine @ nib.orientations.inv_ornt_aff(transform, array.shape)
    return new_array, new_affine


def reorient_to(
    array: ArrayT,
    affine: npt.NDArray[np.float64],
    target_affine: npt.NDArray[np.float64],
    *,
    copy: bool = True,
) -> ArrayT:
    """``array`` on ``affine`` turned to the voxel order of ``target_affine`` (the inverse of
    :func:`reorient_to_ras` when the target is the file's own affine). Only flips and axis
    permutations, so values stay exact; refuses a target that is not the same grid. With
    ``copy=False`` the result is a view of ``array`` (strided, not contiguous)."""
    current = nib.orientations.io_orientation(affine)
    wanted = nib.orientations.io_orientation(target_affine)
    transform = nib.orientations.ornt_transform(current, wanted)
    turned = nib.orientations.apply_orientation(array, transform)
    moved = affine @ nib.orientations.inv_ornt_aff(transform, array.shape)
    if not np.allclose(moved, target_affine, atol=1e-3):
        raise ValueError("the target affine is not a reorientation of this grid")
    return cast(ArrayT, np.ascontiguousarray(turned) if copy else turned)


def transform_points(
    affine: npt.NDArray[np.float64], points: npt.NDArray[np.floating]
) -> npt.NDArray[np.float64]:
    """Apply a 4x4 affine to (N, 3) points."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ affine[:3, :3].T + affine[:3, 3]
