"""Progress from the pipeline into the job's row, and the signal to stop back out of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from iris3d.contracts import Stage
from iris3d.jobs.errors import JobCancelledError, LeaseLostError, WorkerStoppingError
from iris3d.pipeline import overall_fraction
from iris3d.store import queue
from iris3d.store.database import Database
from iris3d.store.queue import Claim, Lease


class JobReporter:
    """A pipeline :class:`~iris3d.pipeline.ProgressSink` for one claimed job.

    Saves progress at most every ``interval_s`` (and at every new stage), and raises when the
    job must stop: cancelled by its owner, lost to another worker, or the worker shutting down.
    The pipeline writes its results atomically, so raising here leaves nothing half-written.
    """

    def __init__(
        self,
        db: Database,
        claim: Claim,
        interval_s: float,
        stopping: threading.Event,
        *,
        fraction: Callable[[Stage, float], float] = overall_fraction,
    ) -> None:
        self._db = db
        self._claim = claim
        self._interval_s = interval_s
        self._stopping = stopping
        self._fraction = fraction  # the stage's fraction -> the whole job's
        self._last_saved = 0.0
        self._stage: Stage | None = None
        self._lease = Lease(held=True)

    def __call__(self, stage: Stage, fraction: float, message: str) -> None:
        now = time.monotonic()
        if stage is self._stage and now - self._last_saved < self._interval_s:
            self.raise_if_stopped()
            return
        self._stage = stage
        self._last_saved = now
        with self._db.session() as session:
            self._lease = queue.save_progress(
                session, self._claim, stage, self._fraction(stage, fraction), message
            )
        self.raise_if_stopped()

    def beat(self) -> None:
        """Tell the database the job is alive (from the heartbeat thread)."""
        with self._db.session() as session:
            self._lease = queue.heartbeat(session, self._claim)

    def raise_if_stopped(self) -> None:
        lease = self._lease
        if not lease.held:
            raise LeaseLostError()
        if lease.cancel_requested:
            raise JobCancelledError()
        if self._stopping.is_set():
            raise WorkerStoppingError()


@contextmanager
def heartbeat(reporter: JobReporter, interval_s: float) -> Iterator[None]:
    """Beat every ``interval_s`` in a thread while the body runs (a stage may not report for
    minutes while a model runs, and the job must not look abandoned meanwhile)."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(interval_s):
            try:
                reporter.beat()
            except Exception:  # a busy database must not kill the job; the next beat retries
                continue

    thread = threading.Thread(target=beat, name="iris-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
