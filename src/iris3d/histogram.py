"""Order statistics of integers from their counts: what the surfaces' medians and the
statistics' percentiles of a structure's HU both need.

Counting an int16 CT's values (``np.bincount``) and walking their running total gives numpy's
percentiles (linear interpolation between the two order statistics around the rank) without
sorting or partitioning a copy of every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

MAX_COUNTED_RANGE = 1 << 20  # wider ranges are not HU: their callers sort as before


@dataclass(frozen=True, eq=False)
class IntegerCounts:
    """How often each integer from ``low`` occurs among ``n`` values."""

    low: int
    counts: npt.NDArray[np.int64]
    n: int

    @classmethod
    def of(cls, values: npt.NDArray[np.generic]) -> IntegerCounts | None:
        """The counts of integer ``values``; None for no values, floats, or a range wider than
        ``MAX_COUNTED_RANGE``."""
        if len(values) == 0 or values.dtype.kind not in "iu":
            return None
        low, high = int(values.min()), int(values.max())
        if high - low > MAX_COUNTED_RANGE:
            return None
        shifted = np.asarray(values, dtype=np.int64) - low
        return cls(low, np.bincount(shifted), len(values))

    @cached_property
    def _at_or_below(self) -> npt.NDArray[np.int64]:
        return np.cumsum(self.counts)

    def nth(self, rank: int) -> int:
        """The ``rank``-th smallest value (from 0)."""
        return self.low + int(np.searchsorted(self._at_or_below, rank, side="right"))

    def percentile(self, q: float) -> float:
        """``np.percentile(values, q)`` (linear interpolation)."""
        rank = q / 100.0 * (self.n - 1)
        below = int(np.floor(rank))
        a, b = self.nth(below), self.nth(min(below + 1, self.n - 1))
        return a + (rank - below) * (b - a)

    def mean(self) -> float:
        return float(np.dot(self.counts, self._levels)) / self.n

    def std(self) -> float:
        """The population standard deviation (numpy's default)."""
        return float(np.sqrt(np.dot(self.counts, (self._levels - self.mean()) ** 2) / self.n))

    @cached_property
    def _levels(self) -> npt.NDArray[np.float64]:
        return np.arange(self.low, self.low + len(self.counts), dtype=np.float64)
