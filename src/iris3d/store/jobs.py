"""Jobs as the API sees them: create, read, cancel, retry; queue order and past durations."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from iris3d.contracts import JobKind, JobState
from iris3d.store.models import (
    WAITING_MESSAGE,
    Job,
    Study,
    back_in_queue,
    job_changes,
    utcnow,
)


def add_job(
    session: Session,
    study: Study,
    *,
    quality: str,
    engine: str,
    series_uid: str | None,
    max_attempts: int,
) -> Job:
    job = Job(
        owner_id=study.owner_id,
        study_id=study.id,
        quality=quality,
        engine=engine,
        series_uid=series_uid,
        voxels=study.voxels,
        max_attempts=max_attempts,
        message=WAITING_MESSAGE,
    )
    session.add(job)
    session.flush()
    return job


def owned_job(session: Session, owner_id: str, job_id: str) -> Job | None:
    return session.scalar(select(Job).where(Job.id == job_id, Job.owner_id == owner_id))


def job_by_id(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def list_jobs(
    session: Session,
    owner_id: str | None,
    *,
    study_id: str | None = None,
    state: JobState | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[Job]:
    """The owner's jobs, newest first; ``owner_id=None`` lists everyone's (admins only)."""
    query = select(Job)
    if owner_id is not None:
        query = query.where(Job.owner_id == owner_id)
    if study_id is not None:
        query = query.where(Job.study_id == study_id)
    if state is not None:
        query = query.where(Job.state == state)
    query = query.order_by(Job.created_at.desc(), Job.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def latest_jobs(session: Session, study_ids: list[str]) -> dict[str, Job]:
    """Each study's newest processing job (comparisons are not the study's own results)."""
    if not study_ids:
        return {}
    jobs = session.scalars(
        select(Job)
        .where(Job.study_id.in_(study_ids), Job.kind == JobKind.STUDY)
        .order_by(Job.created_at, Job.id)
    )
    return {job.study_id: job for job in jobs}


def job_revisions(session: Session, owner_id: str) -> dict[str, int]:
    rows = session.execute(select(Job.id, Job.revision).where(Job.owner_id == owner_id))
    return {job_id: revision for job_id, revision in rows}


def jobs_by_id(session: Session, ids: list[str]) -> list[Job]:
    if not ids:
        return []
    return list(session.scalars(select(Job).where(Job.id.in_(ids))))


def request_cancel(session: Session, job_id: str) -> Job | None:
    """A queued job is cancelled now; a running one is asked to stop (its worker confirms)."""
    now = utcnow()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(**job_changes(state=JobState.CANCELLED, finished_at=now,
                        message=JobState.CANCELLED.value))
    )
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING)
        .values(**job_changes(cancel_requested=True, message="cancelling"))
    )
    return session.get(Job, job_id, populate_existing=True)


def requeue_finished(session: Session, job_id: str, max_attempts: int) -> bool:
    """Put a failed or cancelled job back in the queue with fresh attempts."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_([JobState.FAILED, JobState.CANCELLED]))
        .values(
            **back_in_queue(
                error=None,
                cancel_requested=False,
                attempts=0,
                max_attempts=max_attempts,
                started_at=None,
                finished_at=None,
                created_at=utcnow(),
            )
        )
    )
    return bool(getattr(result, "rowcount", 0))


def queue_position(session: Session, job: Job) -> int | None:
    """How many queued jobs will be claimed before this one (0: next); None unless queued."""
    if job.state != JobState.QUEUED:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(Job)
        .where(
            Job.state == JobState.QUEUED,
            (Job.created_at < job.created_at)
            | ((Job.created_at == job.created_at) & (Job.id < job.id)),
        )
    )
    return int(ahead or 0)


def queued_and_running(session: Session) -> list[Job]:
    """Every job not yet finished, in claim order."""
    query = (
        select(Job)
        .where(Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .order_by(Job.created_at, Job.id)
    )
    return list(session.scalars(query))


def past_durations(session: Session, quality: str, limit: int = 50) -> list[tuple[int, float]]:
    """(voxels, seconds) of the latest successful jobs of this quality."""
    rows = session.execute(
        select(Job.voxels, Job.duration_s)
        .where(Job.state == JobState.DONE, Job.quality == quality)
        .where(Job.duration_s.is_not(None))
        .order_by(Job.finished_at.desc())
        .limit(limit)
    )
    return [(int(v), float(d)) for v, d in rows if d is not None]


def count_by_state(session: Session) -> dict[JobState, int]:
    rows = session.execute(select(Job.state, func.count()).group_by(Job.state))
    counts = dict.fromkeys(JobState, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts
