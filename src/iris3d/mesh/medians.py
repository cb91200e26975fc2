"""Medians of a structure's HU samples for :mod:`iris3d.mesh.intensity`.

The results are exactly numpy's medians of the samples as float32 (what the placement was
tuned with). Where the samples are integers (an integer CT's HU, their differences, their
deviations from a median doubled), they are found by counting the values instead of
partitioning them: a few times faster on the 200 000 samples a structure is read on, and a
structure takes eight medians.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from iris3d.histogram import IntegerCounts


def sample(values: npt.NDArray[np.generic], where: npt.NDArray[np.bool_],
           limit: int = 200_000) -> npt.NDArray[np.generic]:
    """The values at ``where``, evenly thinned to at most ``limit``, in their own type."""
    picked = values[where]
    step = max(1, len(picked) // limit)
    return picked[::step]


def median(values: npt.NDArray[np.generic]) -> float:
    """``np.median`` of ``values`` as float32."""
    counted = IntegerCounts.of(values)
    if counted is not None:
        return counted.percentile(50)
    return float(np.median(np.asarray(values, dtype=np.float32)))


def robust_std(values: npt.NDArray[np.generic]) -> float:
    """1.4826 times the median absolute deviation, with the medians of :func:`median`."""
    twice = values.astype(np.int64) * 2 if values.dtype.kind in "iu" else None
    doubled = None if twice is None else IntegerCounts.of(twice)
    if twice is not None and doubled is not None:
        # Twice an integer median is an integer: the doubled deviations are integers.
        deviation = IntegerCounts.of(np.abs(twice - round(doubled.percentile(50))))
        if deviation is not None:
            return float(1.4826 * np.float32(deviation.percentile(50) / 2.0))
    as_float = np.asarray(values, dtype=np.float32)
    centre = np.median(as_float)
    return float(1.4826 * np.median(np.abs(as_float - centre)))
