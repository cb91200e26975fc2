"""``iris worker`` when ``IRIS_QUEUE_URL`` names a broker: a Celery worker whose task claims the
job's row and calls :func:`iris3d.jobs.runner.run_claimed`.

Each pool process makes its database connections, blob store and engines once, after the fork,
and keeps them for every job it runs (one engine per process: the model stays warm).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from iris3d.contracts import JobState
from iris3d.jobs.celery_executor import (
    TASK_NAME,
    CeleryExecutor,
    make_celery,
    queue_name,
    worker_queues,
)
from iris3d.jobs.engines import EngineCache
from iris3d.jobs.reaper import reap_abandoned
from iris3d.jobs.runner import RELEASED, WorkerContext, clean_scratch, run_claimed
from iris3d.settings import Settings, get_settings
from iris3d.store import queue
from iris3d.store.blobs import open_blob_store
from iris3d.store.database import database_url, open_database
from iris3d.store.migrate import upgrade
from iris3d.store.models import utcnow

if TYPE_CHECKING:
    from celery import Celery, Task
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass
class _Process:
    pid: int
    ctx: WorkerContext
    executor: CeleryExecutor
    job_id: str | None = None


# Each pool process's context by pid, made on its first job (one made before a fork is not ours).
_processes: dict[int, _Process] = {}
_lock = threading.Lock()


def _context(settings: Settings) -> _Process:
    with _lock:
        process = _processes.get(os.getpid())
        if process is None:
            db = open_database(database_url(settings))
            ctx = WorkerContext(
                settings=settings,
                db=db,
                blobs=open_blob_store(settings),
                engines=EngineCache(),
                worker_id=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
                stopping=threading.Event(),
                scratch=settings.data_dir / "scratch",
            )
            ctx.scratch.mkdir(parents=True, exist_ok=True)
            clean_scratch(ctx.scratch)
            process = _Process(os.getpid(), ctx, CeleryExecutor(settings))
            _processes[process.pid] = process
            threading.Thread(target=_beat_forever, args=(process,), daemon=True).start()
        return process


def _beat_forever(process: _Process) -> None:
    """Count this process among the live workers (``iris_workers``) while it is idle too."""
    while not process.ctx.stopping.wait(process.ctx.settings.worker_heartbeat_s):
        _beat(process)


def _beat(process: _Process) -> None:
    ctx, job_id = process.ctx, process.job_id
    try:
        with ctx.db.session() as session:
            queue.beat_worker(session, ctx.worker_id, socket.gethostname(), os.getpid(), job_id)
    except Exception as e:  # the job's own heartbeat is what protects it; this is a count
        log.warning("worker heartbeat failed: %s", type(e).__name__)


def _claim_fairly(session: Session, job_id: str, worker_id: str) -> queue.Claim | None:
    """The fairest queued job on ``job_id``'s broker queue, else ``job_id`` itself.

    Messages arrive first come first served; jobs of one queue are interchangeable, so each
    delivery takes whichever job of its queue is due in fair order (``queue.fair_order``). Every
    job still gets a delivery: a queue's messages and its queued jobs are equal in number."""
    route = queue.route_of(session, job_id)
    if route is not None:
        wanted = queue_name(*route)
        claim = queue.claim_next(session, worker_id, lambda e, q: queue_name(e, q) == wanted)
        if claim is not None:
            return claim
    return queue.claim_job(session, job_id, worker_id)


def run_job(task: Task[Any, Any], job_id: str) -> str:
    """Claim and run a job of ``job_id``'s queue (fair order); when none is queued, ``job_id``'s
    other states mean another delivery already did (or will)."""
    settings = get_settings()
    process = _context(settings)
    ctx = process.ctx
    state: str | None = None
    with ctx.db.session() as session:
        claim = _claim_fairly(session, job_id, ctx.worker_id)
    if claim is None:
        for requeued, state in reap_abandoned(ctx.db, settings).items():
            if state == JobState.QUEUED and requeued != job_id:
                process.executor.submit(requeued)
        with ctx.db.session() as session:
            claim = queue.claim_job(session, job_id, ctx.worker_id)
            state = queue.job_state(session, job_id)
    if claim is None:
        if state == JobState.RUNNING:
            # Held by a worker that may have just died: look again once it would be stale.
            raise task.retry(countdown=settings.worker_stale_s, max_retries=None)
        log.info("job %s is %s: nothing to do", job_id, state or "gone")
        return state or "gone"
    job_id = claim.job_id
    process.job_id = job_id
    _beat(process)
    try:
        outcome = run_claimed(claim, ctx)
    finally:
        process.job_id = None
        _beat(process)
    log.info("job %s attempt %d: %s", claim.job_id, claim.attempt, outcome)
    if outcome == RELEASED:
        process.executor.submit(job_id)  # this worker is stopping: another takes it
    return outcome


def celery_app(settings: Settings) -> Celery:
    app = make_celery(settings)
    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)(run_job)
    return app


def run_celery_worker(settings: Settings, *, concurrency: int = 1) -> None:
    """A Celery worker (prefork, ``concurrency`` processes) on this worker's queues."""
    db = open_database(database_url(settings))
    upgrade(db)
    stale = utcnow() - timedelta(seconds=10 * settings.worker_stale_s)
    with db.session() as session:
        queue.forget_dead_workers(session, stale)
    db.dispose()
    app = celery_app(settings)
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(worker_queues(settings)),
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"iris-{os.getpid()}@{socket.gethostname()}",
        ]
    )
