"""Stored pixel values to Hounsfield units, keeping int16 whenever that is exact."""

import numpy as np
import numpy.typing as npt

HU_MIN, HU_MAX = -32768, 32767


def to_hounsfield(
    stored: npt.NDArray[np.generic], slope: float = 1.0, intercept: float = 0.0
) -> npt.NDArray[np.int16] | npt.NDArray[np.float32]:
    """``stored * slope + intercept`` as int16 when integral and in range, else float32.

    int16 halves memory against float32 for the common case (integer slope and intercept), which
    matters at 512x512x1000.
    """
    integral_scale = float(slope).is_integer() and float(intercept).is_integer()
    if np.issubdtype(stored.dtype, np.integer) and integral_scale:
        lo, hi = (int(stored.min()), int(stored.max())) if stored.size else (0, 0)
        out_lo = min(lo * slope, hi * slope) + intercept
        out_hi = max(lo * slope, hi * slope) + intercept
        if out_lo >= HU_MIN and out_hi <= HU_MAX:
            if slope == 1 and intercept == 0 and stored.dtype == np.int16:
                return stored  # type: ignore[return-value]
            out = stored.astype(np.int32)
            if slope != 1:
                out *= int(slope)
            if intercept != 0:
                out += int(intercept)
            return out.astype(np.int16)
    result = stored.astype(np.float32)
    if slope != 1:
        result *= np.float32(slope)
    if intercept != 0:
        result += np.float32(intercept)
    return result


def looks_like_ct(array: npt.NDArray[np.generic]) -> bool:
    """CT holds air near -1000 HU; MR and PET intensities are not negative like that."""
    sample = array[:: max(1, array.shape[0] // 64), :: max(1, array.shape[1] // 64), :]
    return bool(sample.size) and float(np.min(sample)) <= -500
