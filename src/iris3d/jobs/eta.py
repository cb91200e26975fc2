"""Queue position and time to finish, from the durations of past jobs of the same quality."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from iris3d.contracts import JobState
from iris3d.store import jobs as job_rows
from iris3d.store import queue
from iris3d.store.models import Job, utcnow


def estimate_duration(history: list[tuple[int, float]], voxels: int) -> float | None:
    """Seconds a job of ``voxels`` should take, from (voxels, seconds) of past jobs.

    Time grows about linearly with voxels, so the median seconds-per-voxel of past jobs of a
    similar size (within 4x) is scaled; with none of a similar size, all past jobs are used.
    """
    rates = [s / v for v, s in history if v > 0 and 0.25 <= voxels / v <= 4.0]
    if not rates:
        rates = [s / v for v, s in history if v > 0]
    if not rates:
        return None
    return statistics.median(rates) * voxels


def remaining_seconds(job: Job, estimate: float | None, now: datetime) -> float | None:
    """Time left for one job: extrapolated from its progress once it has some."""
    if job.state == JobState.QUEUED:
        return estimate
    if job.state != JobState.RUNNING:
        return 0.0
    elapsed = (now - job.started_at).total_seconds() if job.started_at else 0.0
    if job.progress >= 0.1 and elapsed > 0:
        return max(elapsed / job.progress - elapsed, 0.0)
    if estimate is None:
        return None
    return max(estimate - elapsed, 0.0)


@dataclass
class EtaCalculator:
    """ETAs for several jobs from one look at the queue."""

    session: Session
    workers: int
    now: datetime = field(default_factory=utcnow)
    _histories: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    _queue: list[Job] | None = None

    def _estimate(self, job: Job) -> float | None:
        if job.quality not in self._histories:
            self._histories[job.quality] = job_rows.past_durations(self.session, job.quality)
        return estimate_duration(self._histories[job.quality], job.voxels)

    def eta_seconds(self, job: Job) -> float | None:
        own = remaining_seconds(job, self._estimate(job), self.now)
        if job.state != JobState.QUEUED or own is None:
            return own
        if self._queue is None:
            self._queue = job_rows.queued_and_running(self.session)
        ahead = 0.0
        for other in self._queue:
            if other.id == job.id:
                break
            left = remaining_seconds(other, self._estimate(other), self.now)
            if left is None:
                return None
            ahead += left
        return ahead / max(self.workers, 1) + own


class QueueFacts:
    """The live worker count and past durations, read again at most every ``max_age_s``: they
    change slowly, and reading them for every status request would double its cost."""

    def __init__(self, worker_stale_s: float, max_age_s: float = 2.0) -> None:
        self._worker_stale_s = worker_stale_s
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._workers = 0
        self._histories: dict[str, list[tuple[int, float]]] = {}

    def calculator(self, session: Session) -> EtaCalculator:
        with self._lock:
            if time.monotonic() - self._read_at > self._max_age_s:
                since = utcnow() - timedelta(seconds=self._worker_stale_s)
                self._workers = queue.live_workers(session, since)
                self._histories = {}
                self._read_at = time.monotonic()
            # Calculators fill the shared histories as they need them (one read per quality).
            return EtaCalculator(session, workers=self._workers, _histories=self._histories)
