"""Failed sign-ins counted per address and per account, in a sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque

_SWEEP_ABOVE = 10_000  # keys kept before old ones are swept out


class FailureLimiter:
    """Allows ``limit`` failures per key in ``window_s``; more are refused until some age out.

    Kept in the API process: with several API processes each counts on its own, which still
    bounds guessing to ``limit`` times the number of processes.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if times is not None and len(times) >= self._limit:
                    wait = max(wait, times[0] + self._window_s - now)
        return wait

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > _SWEEP_ABOVE:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times
