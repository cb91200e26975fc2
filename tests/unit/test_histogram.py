"""Order statistics from counts: numpy's, without sorting."""

from __future__ import annotations

import numpy as np
import pytest

from iris3d.histogram import IntegerCounts


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_percentiles_mean_and_std_are_numpys(size: int) -> None:
    values = np.round(np.random.default_rng(size).normal(-50, 300, size)).astype(np.int16)
    counted = IntegerCounts.of(values)
    assert counted is not None and counted.n == size
    for q in (0, 5, 37.5, 50, 95, 100):
        assert counted.percentile(q) == pytest.approx(np.percentile(values, q), abs=1e-9)
    assert counted.mean() == pytest.approx(values.mean(), abs=1e-9)
    assert counted.std() == pytest.approx(values.astype(np.float64).std(), abs=1e-9)
    assert counted.nth(0) == values.min() and counted.nth(size - 1) == values.max()


def test_floats_empty_input_and_wide_ranges_are_not_counted() -> None:
    assert IntegerCounts.of(np.array([1.5, 2.0])) is None
    assert IntegerCounts.of(np.array([], dtype=np.int16)) is None
    assert IntegerCounts.of(np.array([0, 1 << 21], dtype=np.int64)) is None
