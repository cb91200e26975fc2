"""What each account uses, for its quotas: stored bytes, studies, open uploads, queued jobs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iris3d.contracts import JobState
from iris3d.store.models import Job, Study, Upload


@dataclass(frozen=True)
class Usage:
    stored_bytes: int
    studies: int
    open_uploads: int
    upload_bytes: int
    queued_jobs: int


def _artifact_bytes(session: Session, owner_id: str) -> int:
    """Result files of the account's finished jobs (sizes live in each job's artifact list)."""
    rows = session.scalars(
        select(Job.artifacts).where(Job.owner_id == owner_id, Job.state == JobState.DONE)
    )
    return sum(
        int(record.get("size", 0))
        for artifacts in rows
        for record in (artifacts or {}).values()
        if isinstance(record, dict)
    )


def usage(session: Session, owner_id: str) -> Usage:
    source = session.execute(
        select(func.count(), func.coalesce(func.sum(Study.source_bytes), 0)).where(
            Study.owner_id == owner_id
        )
    ).one()
    uploads = session.execute(
        select(func.count(), func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.owner_id == owner_id
        )
    ).one()
    unfinished = (JobState.QUEUED, JobState.RUNNING)
    queued = session.scalar(
        select(func.count()).where(Job.owner_id == owner_id, Job.state.in_(unfinished))
    )
    return Usage(
        stored_bytes=int(source[1]) + _artifact_bytes(session, owner_id),
        studies=int(source[0]),
        open_uploads=int(uploads[0]),
        upload_bytes=int(uploads[1]),
        queued_jobs=int(queued or 0),
    )
