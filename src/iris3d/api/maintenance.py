"""Housekeeping the API does in the background: requeue abandoned jobs (so their status says so
even while every worker is busy), hand long-waiting jobs to the queue again, and remove expired
uploads and sessions."""

from __future__ import annotations

import logging
from datetime import timedelta

import anyio

from iris3d.api.services import Services
from iris3d.contracts import JobState
from iris3d.jobs.reaper import reap_abandoned
from iris3d.store import queue, studies, users
from iris3d.store.models import utcnow

log = logging.getLogger(__name__)


def sweep(services: Services) -> None:
    requeued = reap_abandoned(services.db, services.settings)
    for job_id, state in requeued.items():
        if state == JobState.QUEUED:
            services.executor.submit(job_id)
    resend_lost_messages(services)
    now = utcnow()
    with services.db.session() as session:
        expired = studies.expired_uploads(session, now)
        for upload_id in expired:
            studies.remove_upload(session, upload_id)
        users.remove_expired_tokens(session, now)
    for upload_id in expired:
        (services.upload_dir / f"{upload_id}.part").unlink(missing_ok=True)


def resend_lost_messages(services: Services) -> None:
    """A broker's message can vanish with the broker or with a machine that held it; when the
    broker holds fewer messages than jobs wait, send the long-waiting ones again (a duplicate is
    harmless: the worker's claim decides)."""
    if services.executor.name == "database":
        return
    before = utcnow() - timedelta(seconds=services.settings.worker_stale_s)
    with services.db.reader() as session:
        waiting = queue.queued_since(session, before)
    if waiting and sum(services.executor.queue_depths().values()) < len(waiting):
        for job_id in waiting:
            services.executor.submit(job_id)


async def run_maintenance(services: Services) -> None:
    interval = max(services.settings.worker_stale_s / 2, 1.0)
    while True:
        try:
            await anyio.to_thread.run_sync(sweep, services)
        except Exception:  # the next round tries again; the API keeps serving
            log.exception("maintenance failed")
        await anyio.sleep(interval)
