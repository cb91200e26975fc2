"""Reading the CT between its voxels, for the placement of a surface on it.

Linear interpolation of a blurred edge sampled every voxel puts its mid level off by up to a
tenth of a voxel, depending on where the edge falls between two samples; across 3-5 mm slices
that is a ripple of a few tenths of a millimetre, with the slices' period. A cubic B-spline
follows the edge's ramp more closely (a quarter less on a single edge; on the fidelity
benchmark's plate 0.115 -> 0.098 mm RMS at 3 mm slices and 0.241 -> 0.187 at 5 mm, the ring
0.261 -> 0.220 at 5 mm, the sphere unchanged), but its prefilter sharpens the noise as well: a
faint structure is read linearly (a ball 15 HU above its surroundings, from 3 mm labels:
0.347 -> 0.454 mm read by the spline).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.ndimage import map_coordinates, spline_filter

Reader = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]

_SPLINE_MARGIN = 4  # voxels past the points: the prefilter's edge effect is 0.27^4 by then


def ct_reader(ct: npt.NDArray[np.floating] | npt.NDArray[np.integer],
              points_ijk: npt.NDArray[np.float64], reach_voxels: npt.NDArray[np.float64],
              cubic: bool) -> Reader:
    """A function from (N, 3) voxel indices to the CT's values there, for points within
    ``reach_voxels`` (per axis) of ``points_ijk``: trilinear, or a cubic B-spline on the box
    around them (the prefilter runs over that box only, not the whole scan)."""
    if not cubic or len(points_ijk) == 0:
        def linear(ijk: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            values: npt.NDArray[np.float64] = map_coordinates(
                ct, ijk.T, order=1, mode="nearest", prefilter=False)
            return values
        return linear
    margin = np.ceil(np.asarray(reach_voxels)).astype(int) + _SPLINE_MARGIN
    shape = np.asarray(ct.shape)
    low = np.clip(np.floor(points_ijk.min(axis=0)).astype(int) - margin, 0, shape - 1)
    high = np.clip(np.ceil(points_ijk.max(axis=0)).astype(int) + margin + 1, low + 1, shape)
    box = tuple(slice(a, b) for a, b in zip(low, high, strict=True))
    coefficients = spline_filter(np.asarray(ct[box], dtype=np.float32), order=3,
                                 output=np.float32, mode="nearest")

    def spline(ijk: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        values: npt.NDArray[np.float64] = map_coordinates(
            coefficients, (ijk - low).T, order=3, mode="nearest", prefilter=False)
        return values
    return spline
