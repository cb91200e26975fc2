"""Comparisons: jobs of kind ``comparison`` that compare the results of two study jobs.

A comparison's row is a job, so it is queued, claimed, retried and streamed like any other;
``study_id`` is the earlier (base) study, ``follow_study_id`` the later one, and ``inputs``
names the two study jobs whose files it reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from iris3d.contracts import (
    COMPARISON_ENGINE,
    COMPARISON_INPUTS,
    JobKind,
    JobState,
    missing_artifacts,
)
from iris3d.store.models import WAITING_MESSAGE, Job, Study


def not_comparable(artifacts: Iterable[str]) -> str:
    """Why a study job with these artifacts cannot be compared ("" when it can), worded to
    follow the study's name: jobs from before ``ct_nifti`` existed lack what a comparison reads."""
    missing = missing_artifacts(artifacts, COMPARISON_INPUTS)
    if not missing:
        return ""
    return (f"was processed by an older Iris (no {', '.join(missing)}): process it again, "
            "then compare.")


def latest_done_job(session: Session, study_id: str) -> Job | None:
    """The study's newest finished processing job."""
    return session.scalar(
        select(Job)
        .where(
            Job.study_id == study_id,
            Job.kind == JobKind.STUDY,
            Job.state == JobState.DONE,
        )
        .order_by(Job.finished_at.desc(), Job.id)
        .limit(1)
    )


def add_comparison(
    session: Session,
    base: tuple[Study, Job],
    follow: tuple[Study, Job],
    *,
    affine: bool,
    max_attempts: int,
) -> Job:
    (base_study, base_job), (follow_study, follow_job) = base, follow
    job = Job(
        owner_id=base_study.owner_id,
        study_id=base_study.id,
        follow_study_id=follow_study.id,
        kind=JobKind.COMPARISON,
        inputs={"base_job_id": base_job.id, "follow_job_id": follow_job.id, "affine": affine},
        quality=COMPARISON_ENGINE,
        engine=COMPARISON_ENGINE,
        voxels=base_study.voxels + follow_study.voxels,
        max_attempts=max_attempts,
        message=WAITING_MESSAGE,
    )
    session.add(job)
    session.flush()
    return job


def owned_comparison(session: Session, owner_id: str, job_id: str) -> Job | None:
    return session.scalar(
        select(Job).where(
            Job.id == job_id, Job.owner_id == owner_id, Job.kind == JobKind.COMPARISON
        )
    )


def list_comparisons(
    session: Session, owner_id: str, *, study_id: str | None = None, limit: int = 100
) -> list[Job]:
    """The owner's comparisons, newest first; with ``study_id``, those it takes part in."""
    query = select(Job).where(Job.owner_id == owner_id, Job.kind == JobKind.COMPARISON)
    if study_id is not None:
        query = query.where(or_(Job.study_id == study_id, Job.follow_study_id == study_id))
    return list(session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit)))


def comparisons_of_study(session: Session, study_id: str) -> list[str]:
    """Ids of every comparison the study takes part in, either side."""
    query = select(Job.id).where(
        Job.kind == JobKind.COMPARISON,
        or_(Job.study_id == study_id, Job.follow_study_id == study_id),
    )
    return list(session.scalars(query))


def remove_comparison(session: Session, job_id: str) -> None:
    """Delete the row; a worker still running it loses its claim and stops."""
    session.execute(delete(Job).where(Job.id == job_id, Job.kind == JobKind.COMPARISON))


def studies_by_id(session: Session, ids: list[str]) -> dict[str, Study]:
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Study).where(Study.id.in_(ids)))}
