"""Jobs whose worker went silent (killed, out of memory, machine gone) go back to the queue."""

from __future__ import annotations

import logging
from datetime import timedelta

from iris3d.contracts import JobState
from iris3d.settings import Settings
from iris3d.store import queue
from iris3d.store.database import Database
from iris3d.store.models import utcnow

log = logging.getLogger(__name__)


def reap_abandoned(db: Database, settings: Settings) -> dict[str, JobState]:
    """Requeue (or fail, past their attempts) jobs whose heartbeat is older than
    ``IRIS_WORKER_STALE_S``; returns each such job's new state."""
    now = utcnow()
    with db.session() as session:
        outcome = queue.requeue_stale(session, now - timedelta(seconds=settings.worker_stale_s))
        queue.forget_dead_workers(session, now - timedelta(seconds=10 * settings.worker_stale_s))
    for job_id, state in outcome.items():
        log.warning("job %s was abandoned by its worker: now %s", job_id, state)
    return outcome
