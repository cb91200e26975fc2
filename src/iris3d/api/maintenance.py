"""Housekeeping the API does in the background: requeue abandoned jobs (so their status says so
even while every worker is busy) and remove expired uploads and sessions."""

from __future__ import annotations

import logging

import anyio

from iris3d.api.services import Services
from iris3d.jobs.reaper import reap_abandoned
from iris3d.store import studies, users
from iris3d.store.models import utcnow

log = logging.getLogger(__name__)


def sweep(services: Services) -> None:
    reap_abandoned(services.db, services.settings)
    now = utcnow()
    with services.db.session() as session:
        expired = studies.expired_uploads(session, now)
        for upload_id in expired:
            studies.remove_upload(session, upload_id)
        users.remove_expired_tokens(session, now)
    for upload_id in expired:
        (services.upload_dir / f"{upload_id}.part").unlink(missing_ok=True)


async def run_maintenance(services: Services) -> None:
    interval = max(services.settings.worker_stale_s / 2, 1.0)
    while True:
        try:
            await anyio.to_thread.run_sync(sweep, services)
        except Exception:  # the next round tries again; the API keeps serving
            log.exception("maintenance failed")
        await anyio.sleep(interval)
