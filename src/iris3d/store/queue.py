"""The job queue as the workers see it: claim, heartbeat, finish, and requeue the abandoned.

Every write after the claim names the attempt and the worker that holds it, so a worker that lost
its job (it stalled and the job was requeued, or the study was deleted) can never overwrite the
new holder's work: its updates match no row and it stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from iris3d.contracts import JobKind, JobState, Stage
from iris3d.store.models import Job, Study, Worker, back_in_queue, job_changes, utcnow


@dataclass(frozen=True)
class Claim:
    """A job a worker now holds, with what it needs to run it."""

    job_id: str
    attempt: int
    worker_id: str
    study_id: str
    quality: str  # a Quality, or COMPARISON_ENGINE for a comparison
    engine: str  # an EngineName, or COMPARISON_ENGINE for a comparison
    series_uid: str | None
    source_key: str
    segmentation_key: str | None
    kind: JobKind = JobKind.STUDY
    inputs: dict[str, Any] = field(default_factory=dict)  # a comparison's study jobs


@dataclass(frozen=True)
class Lease:
    held: bool
    cancel_requested: bool = False


def _held(job_id: str, attempt: int, worker_id: str) -> ColumnElement[bool]:
    return (
        (Job.id == job_id)
        & (Job.state == JobState.RUNNING)
        & (Job.attempts == attempt)
        & (Job.worker_id == worker_id)
    )


def fair_order(session: Session, limit: int = 50) -> list[tuple[str, str, str]]:
    """Queued jobs as (id, engine, quality) in the order workers take them: first the owners
    with the fewest jobs running, then the owner served longest ago (round robin), then the
    oldest job. One user's backlog so holds at most one worker each while someone else waits
    (``docs/security.md``)."""
    waiting = select(Job.owner_id).where(Job.state == JobState.QUEUED).distinct()
    owners = (
        select(
            Job.owner_id,
            func.count().filter(Job.state == JobState.RUNNING).label("running"),
            func.max(Job.started_at).label("served"),
        )
        .where(Job.owner_id.in_(waiting))
        .group_by(Job.owner_id)
        .subquery()
    )
    rows = session.execute(
        select(Job.id, Job.engine, Job.quality)
        .join(owners, owners.c.owner_id == Job.owner_id)
        .where(Job.state == JobState.QUEUED)
        .order_by(
            owners.c.running, owners.c.served.asc().nulls_first(), Job.created_at, Job.id
        )
        .limit(limit)
    ).all()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def claim_next(
    session: Session, worker_id: str, accepts: Callable[[str, str], bool] | None = None
) -> Claim | None:
    """Take the next queued job in fair order (that ``accepts(engine, quality)``, if given);
    two workers racing for it cannot both win."""
    for _ in range(5):
        candidates = [
            job_id
            for job_id, engine, quality in fair_order(session)
            if accepts is None or accepts(engine, quality)
        ]
        if not candidates:
            return None
        claim = claim_job(session, candidates[0], worker_id)
        if claim is not None:
            return claim
    return None


def claim_job(session: Session, job_id: str, worker_id: str) -> Claim | None:
    """Take the job ``job_id`` if it is queued. The conditional UPDATE is atomic on SQLite and
    PostgreSQL alike (a second writer re-checks the state after the first commits), so two
    workers, or two deliveries of one queue message, cannot both win."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(
            **job_changes(
                state=JobState.RUNNING,
                attempts=Job.attempts + 1,
                worker_id=worker_id,
                heartbeat_at=now,
                started_at=now,
                stage=None,
                progress=0.0,
                message="starting",
            )
        )
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = session.execute(
        select(Job, Study.source_key, Study.segmentation_key)
        .join(Study, Study.id == Job.study_id)
        .where(Job.id == job_id)
    ).one()
    job: Job = row[0]
    return Claim(
        job_id=job.id,
        attempt=job.attempts,
        worker_id=worker_id,
        study_id=job.study_id,
        quality=job.quality,
        engine=job.engine,
        series_uid=job.series_uid,
        source_key=row[1],
        segmentation_key=row[2],
        kind=job.kind,
        inputs=dict(job.inputs or {}),
    )


def job_state(session: Session, job_id: str) -> JobState | None:
    """The job's state, None when there is no such job (its study was deleted)."""
    return session.scalar(select(Job.state).where(Job.id == job_id))


def route_of(session: Session, job_id: str) -> tuple[str, str] | None:
    """The job's (engine, quality), which decide which workers may run it."""
    row = session.execute(select(Job.engine, Job.quality).where(Job.id == job_id)).first()
    return None if row is None else (str(row[0]), str(row[1]))


def queued_since(session: Session, before: datetime) -> list[str]:
    """Jobs queued and unchanged since ``before``: their queue message may have been lost."""
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.state == JobState.QUEUED, Job.updated_at < before)
            .order_by(Job.created_at)
        )
    )


def _lease(session: Session, claim: Claim, **values: Any) -> Lease:
    result = session.execute(
        update(Job)
        .where(_held(claim.job_id, claim.attempt, claim.worker_id))
        .values(heartbeat_at=utcnow(), **values)
        .returning(Job.cancel_requested)
    )
    row = result.first()
    return Lease(held=False) if row is None else Lease(held=True, cancel_requested=bool(row[0]))


def heartbeat(session: Session, claim: Claim) -> Lease:
    return _lease(session, claim)


def save_progress(
    session: Session, claim: Claim, stage: Stage, fraction: float, message: str
) -> Lease:
    return _lease(session, claim, **job_changes(stage=stage, progress=fraction, message=message))


def _finish(session: Session, claim: Claim, state: JobState, **values: Any) -> bool:
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(_held(claim.job_id, claim.attempt, claim.worker_id))
        .values(**job_changes(state=state, finished_at=now, heartbeat_at=None, message=state.value,
                        **values))
    )
    return getattr(result, "rowcount", 0) == 1


def finish_done(
    session: Session,
    claim: Claim,
    *,
    artifacts: dict[str, Any],
    engine_used: str | None,
    engine_reason: str | None,
    timings: dict[str, Any],
    duration_s: float,
) -> bool:
    """Mark the job done with its artifacts; False when the claim was lost (results unused)."""
    return _finish(
        session,
        claim,
        JobState.DONE,
        stage=None,
        progress=1.0,
        artifacts=artifacts,
        engine_used=engine_used,
        engine_reason=engine_reason,
        timings=timings,
        duration_s=duration_s,
    )


def finish_failed(session: Session, claim: Claim, error: str) -> bool:
    return _finish(session, claim, JobState.FAILED, error=error)


def finish_cancelled(session: Session, claim: Claim) -> bool:
    return _finish(session, claim, JobState.CANCELLED)


def release(session: Session, claim: Claim) -> bool:
    """Give the job back untouched (the worker is shutting down); the attempt does not count."""
    result = session.execute(
        update(Job)
        .where(_held(claim.job_id, claim.attempt, claim.worker_id))
        .values(
            **back_in_queue(attempts=Job.attempts - 1)
        )
    )
    return getattr(result, "rowcount", 0) == 1


def requeue_stale(session: Session, stale_before: datetime) -> dict[str, JobState]:
    """Jobs whose worker went silent: requeued while attempts remain, else failed.

    Returns each such job's new state.
    """
    stale = list(
        session.scalars(
            select(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < stale_before)
        )
    )
    outcome: dict[str, JobState] = {}
    for job in stale:
        unchanged = (
            (Job.id == job.id)
            & (Job.attempts == job.attempts)
            & (Job.state == JobState.RUNNING)
        )
        if job.cancel_requested:
            values = job_changes(
                state=JobState.CANCELLED, finished_at=utcnow(), message=JobState.CANCELLED.value
            )
        elif job.attempts < job.max_attempts:
            values = back_in_queue(
                message=f"retrying: the worker stopped during attempt {job.attempts}"
            )
        else:
            values = job_changes(
                state=JobState.FAILED,
                finished_at=utcnow(),
                message=JobState.FAILED.value,
                error=(
                    f"The worker stopped during each of {job.attempts} attempts (out of memory "
                    "or killed); try a lower quality or a smaller study."
                ),
            )
        result = session.execute(update(Job).where(unchanged).values(**values))
        if getattr(result, "rowcount", 0) == 1:
            outcome[job.id] = JobState(values["state"])
    return outcome


def beat_worker(
    session: Session, worker_id: str, hostname: str, pid: int, job_id: str | None
) -> None:
    """Record that a worker is alive (and what it runs), registering it on first call."""
    now = utcnow()
    result = session.execute(
        update(Worker).where(Worker.id == worker_id).values(heartbeat_at=now, job_id=job_id)
    )
    if getattr(result, "rowcount", 0) == 0:
        worker = Worker(id=worker_id, hostname=hostname, pid=pid, heartbeat_at=now, job_id=job_id)
        session.add(worker)
        session.flush()


def remove_worker(session: Session, worker_id: str) -> None:
    session.execute(delete(Worker).where(Worker.id == worker_id))


def live_workers(session: Session, since: datetime) -> int:
    count = session.scalar(
        select(func.count()).select_from(Worker).where(Worker.heartbeat_at >= since)
    )
    return int(count or 0)


def forget_dead_workers(session: Session, before: datetime) -> None:
    session.execute(delete(Worker).where(Worker.heartbeat_at < before))


def finished_artifacts(session: Session, job_id: str) -> dict[str, Any] | None:
    """A finished job's artifacts (what a comparison reads); None unless the job is done."""
    row = session.execute(select(Job.state, Job.artifacts).where(Job.id == job_id)).first()
    if row is None or row[0] != JobState.DONE:
        return None
    return dict(row[1] or {})
