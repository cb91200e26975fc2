"""Sliding-window counters: failed sign-ins and sign-ups, per client, per account, overall."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from fastapi import HTTPException, status

from iris3d.settings import Settings

_SWEEP_ABOVE = 10_000  # keys kept before old ones are swept out
_HOUR_S = 3600.0


class FailureLimiter:
    """Allows ``limit`` events per key in ``window_s``; more are refused until some age out.

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
        """Count one event against each of ``keys``."""
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


@dataclass(frozen=True)
class Limiters:
    """Failed sign-ins per (account, client) and per client: a guesser is slowed, while the
    owner, signing in from another client, is not. Sign-ups per client and in all: each costs
    an argon2 hash."""

    signin_pair: FailureLimiter
    signin_client: FailureLimiter
    signup_client: FailureLimiter
    signup_all: FailureLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiters:
        window = settings.signin_window_s
        return cls(
            signin_pair=FailureLimiter(settings.signin_attempts, window),
            signin_client=FailureLimiter(settings.signin_client_attempts, window),
            signup_client=FailureLimiter(settings.signup_per_client, _HOUR_S),
            signup_all=FailureLimiter(settings.signup_per_hour, _HOUR_S),
        )


def too_many(wait_s: float, what: str) -> HTTPException:
    seconds = max(1, math.ceil(wait_s))
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"Too many {what}; try again in {seconds} s.",
        headers={"Retry-After": str(seconds)},
    )
