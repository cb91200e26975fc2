"""The placement's medians: exactly numpy's float32 medians, whether counted or partitioned."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from iris3d.mesh.medians import median, robust_std, sample


def _numpy_robust_std(values: npt.NDArray[np.generic]) -> float:
    as_float = np.asarray(values, dtype=np.float32)
    return float(1.4826 * np.median(np.abs(as_float - np.median(as_float))))


@pytest.mark.parametrize("size", [1, 2, 7, 8, 1001, 200_000])
@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int32, np.float32, np.float64])
def test_medians_are_numpys_exactly(size: int, dtype: type) -> None:
    rng = np.random.default_rng(size)
    values = np.round(rng.normal(40.0, 25.0, size)).astype(dtype)
    if np.dtype(dtype).kind == "u":
        values = np.abs(values)
    assert median(values) == float(np.median(values.astype(np.float32)))
    assert robust_std(values) == _numpy_robust_std(values)


def test_a_range_too_wide_to_count_is_partitioned() -> None:
    values = np.array([-2_000_000_000, 0, 5, 2_000_000_000, 7, 1], dtype=np.int64)
    assert median(values) == float(np.median(values.astype(np.float32)))
    assert robust_std(values) == _numpy_robust_std(values)


def test_sample_thins_evenly_and_keeps_the_type() -> None:
    values = np.arange(1000, dtype=np.int16).reshape(10, 10, 10)
    where = values % 2 == 0
    picked = sample(values, where, limit=100)
    assert picked.dtype == np.int16
    assert len(picked) == 100 and np.array_equal(picked, np.arange(0, 1000, 10))
