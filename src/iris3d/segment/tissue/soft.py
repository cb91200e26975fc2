"""Where fat is subcutaneous and where soft tissue is skeletal muscle: zones on the coarse grid.

Each axial slice of the trunk has an outer layer (skin and subcutaneous fat) around a wall of
muscle that encloses the cavities. The wall is found by closing the non-fat tissue under the
skin, so small gaps in it (the linea alba) do not let the cavity leak out. Fat outside the wall
is ``subcutaneous_fat``, fat inside it ``torso_fat``; soft tissue within ``WALL_MM`` of the wall's
outside, or behind the spine (paraspinal muscles), is ``skeletal_muscle``. Slices of limbs held
apart from the trunk are fat around muscle.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from iris3d.segment.tissue.morphology import (
    SLICE_SQUARE,
    Mask,
    Spacing,
    close,
    erode,
    fill_holes_2d,
)

FAT_HU = (-190.0, -30.0)
SKIN_MM = 9.0
CLOSE_MM = 16.0
WALL_MM = 10.0
LIMB_AREA_FRACTION = 0.5  # slice components smaller than this share of the largest are limbs
SPINE_BAND_MM = 25.0  # the vertebrae lie within this of the body's centre line
PARASPINAL_MM = 55.0  # the erector spinae reach about this far to either side

OUTSIDE, EDGE, OUTER, CORE, MUSCLE, LIMB, GAS_RIM = range(7)
GAS_HU = -500.0


def tissue_zones(
    hu: npt.NDArray[np.float32],
    body: Mask,
    *,
    lungs: Mask,
    bone: Mask,
    spacing: Spacing,
    x_mm: npt.NDArray[np.float64],
    y_mm: npt.NDArray[np.float64],
) -> npt.NDArray[np.uint8]:
    """A zone code per coarse voxel (``OUTSIDE`` ... ``LIMB``); ``x_mm[i]``, ``y_mm[j]``: RAS
    position of column i and row j."""
    limbs = _limbs(body)
    trunk = body & ~limbs
    wall = trunk & (lungs | (hu > FAT_HU[1]) | bone) & erode(trunk, SKIN_MM, spacing, True)
    core = fill_holes_2d(close(wall, CLOSE_MM, spacing, True)) & trunk
    muscle = core & ~erode(core, WALL_MM, spacing, True)
    muscle |= core & _behind_spine(bone, body, x_mm, y_mm)
    zones = np.full(body.shape, OUTSIDE, dtype=np.uint8)
    zones[body] = OUTER
    zones[core] = CORE
    zones[muscle] = MUSCLE
    zones[limbs] = LIMB
    # Bowel content and the partial-volume rim of gas pockets look like fat; they are not.
    gas = (hu < GAS_HU) & core & ~lungs
    zones[ndimage.binary_dilation(gas, structure=SLICE_SQUARE, iterations=1) & core & ~lungs] = (
        GAS_RIM
    )
    edge = body ^ erode(body, max(spacing[0], spacing[1]), spacing, True)
    edge |= ndimage.binary_dilation(body, structure=SLICE_SQUARE) & ~body
    zones[edge] = EDGE
    return zones


def _limbs(body: Mask) -> Mask:
    """Pieces of each slice smaller than ``LIMB_AREA_FRACTION`` of that slice's largest: arms
    held apart from the trunk (two legs are alike in size, and both count as trunk)."""
    labels, count = ndimage.label(body, structure=SLICE_SQUARE)
    if count == 0:
        return np.zeros_like(body)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    slice_of = np.array([box[2].start if box else 0 for box in ndimage.find_objects(labels)])
    largest = np.zeros(body.shape[2], dtype=np.int64)
    np.maximum.at(largest, slice_of, sizes[1:])
    small = np.zeros(count + 1, dtype=bool)
    small[1:] = sizes[1:] < LIMB_AREA_FRACTION * largest[slice_of]
    result: Mask = small[labels]
    return result


def _behind_spine(bone: Mask, body: Mask, x_mm: npt.NDArray[np.float64],
                  y_mm: npt.NDArray[np.float64]) -> Mask:
    """Per slice, the paraspinal region: behind the centre of the spine, within
    ``PARASPINAL_MM`` of it across."""
    behind = np.zeros_like(body)
    for k in range(body.shape[2]):
        ii = np.nonzero(body[:, :, k])[0]
        if ii.size == 0:
            continue
        centre_x = float(np.mean(x_mm[ii]))
        band = np.abs(x_mm - centre_x) <= SPINE_BAND_MM
        spine_i, spine_j = np.nonzero(bone[band, :, k])
        if spine_i.size < 4:
            continue
        spine_x = float(np.mean(x_mm[band][spine_i]))
        spine_y = float(np.mean(y_mm[spine_j]))
        near = np.abs(x_mm - spine_x) <= PARASPINAL_MM
        behind[:, :, k] = near[:, None] & (y_mm < spine_y)[None, :]
    return behind
