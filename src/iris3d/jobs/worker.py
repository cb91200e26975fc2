"""A worker process: claims queued jobs one at a time and runs them with warm engines.

Run it with ``iris worker`` (or ``python -m iris3d.jobs.worker``); ``iris serve`` starts
``IRIS_WORKERS`` of them. SIGTERM/SIGINT stop it after giving its job back to the queue.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import socket
import threading
import time
import uuid
from types import FrameType

from iris3d.jobs.celery_executor import is_celery_url
from iris3d.jobs.engines import EngineCache
from iris3d.jobs.reaper import reap_abandoned
from iris3d.jobs.runner import WorkerContext, clean_scratch, run_claimed
from iris3d.settings import Settings, get_settings
from iris3d.store import queue
from iris3d.store.blobs import open_blob_store
from iris3d.store.database import database_url, open_database
from iris3d.store.migrate import upgrade

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def run_worker(settings: Settings, stop: threading.Event, *, max_jobs: int | None = None) -> int:
    """Claim and run jobs until ``stop`` is set (or ``max_jobs`` ran); returns jobs run."""
    db = open_database(database_url(settings))
    upgrade(db)
    ctx = WorkerContext(
        settings=settings,
        db=db,
        blobs=open_blob_store(settings),
        engines=EngineCache(),
        worker_id=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
        stopping=stop,
        scratch=settings.data_dir / "scratch",
    )
    ctx.scratch.mkdir(parents=True, exist_ok=True)
    clean_scratch(ctx.scratch)
    ran = 0
    last_beat = 0.0
    try:
        while not stop.is_set() and (max_jobs is None or ran < max_jobs):
            if time.monotonic() - last_beat >= settings.worker_heartbeat_s:
                _beat(ctx, None)
                reap_abandoned(db, settings)
                last_beat = time.monotonic()
            with db.session() as session:
                claim = queue.claim_next(session, ctx.worker_id)
            if claim is None:
                stop.wait(settings.worker_poll_s)
                continue
            _beat(ctx, claim.job_id)
            outcome = run_claimed(claim, ctx)
            log.info("job %s attempt %d: %s", claim.job_id, claim.attempt, outcome)
            ran += 1
            last_beat = 0.0
    finally:
        with db.session() as session:
            queue.remove_worker(session, ctx.worker_id)
        db.dispose()
    return ran


def _beat(ctx: WorkerContext, job_id: str | None) -> None:
    with ctx.db.session() as session:
        queue.beat_worker(session, ctx.worker_id, socket.gethostname(), os.getpid(), job_id)


def stop_with_parent(parent_pid: int, stop: threading.Event) -> None:
    """Stop (giving the job back) when ``parent_pid`` dies, even by SIGKILL, so no worker
    outlives ``iris serve``: the kernel signals us on Linux, a watch thread checks elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent_pid:
                stop.set()

    threading.Thread(target=watch, name="iris-parent-watch", daemon=True).start()


def configure_worker_logging() -> None:
    """One line per job event; libraries' chatter (alembic's migrations, highdicom's account of
    every module it copies, with the source's UIDs) only when it is a warning."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(process)d %(message)s")
    for library in ("alembic", "highdicom"):
        logging.getLogger(library).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An Iris job worker.")
    parser.add_argument("--parent", type=int, help="Stop when this process ends.")
    args = parser.parse_args(argv)
    configure_worker_logging()
    stop = threading.Event()
    settings = get_settings()
    if is_celery_url(settings.queue_url):
        from iris3d.jobs.celery_worker import run_celery_worker

        if args.parent:  # the kernel's SIGTERM on the parent's death starts Celery's shutdown
            stop_with_parent(args.parent, stop)
        run_celery_worker(settings)
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if args.parent:
        stop_with_parent(args.parent, stop)
    run_worker(settings, stop)


if __name__ == "__main__":
    main()
