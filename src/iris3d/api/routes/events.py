"""One Server-Sent Events stream per user: changes to any of their studies and jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from iris3d.api.deps import CurrentUser, ServicesDep, TokenDep
from iris3d.api.event_schemas import (
    Deleted,
    JobDeletedEvent,
    JobEvent,
    ReadyEvent,
    StudyDeletedEvent,
    StudyEvent,
    UserEvent,
    documented,
    sse,
)
from iris3d.api.present import job_public, study_public
from iris3d.api.services import Services
from iris3d.api.streams import SessionWatch, StreamSlot
from iris3d.contracts import JobState
from iris3d.store import jobs as job_rows
from iris3d.store import studies

router = APIRouter(tags=["events"])


@dataclass
class _Seen:
    studies: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, tuple[int, int | None]] = field(default_factory=dict)


def _changes(services: Services, owner_id: str, seen: _Seen, first: bool) -> list[ServerSentEvent]:
    """Events for what changed since ``seen`` (which is updated); none on the first look."""
    events: list[ServerSentEvent] = []
    with services.db.reader() as session:
        study_revs = studies.study_revisions(session, owner_id)
        job_revs = job_rows.job_revisions(session, owner_id)
        queued = job_rows.list_jobs(session, owner_id, state=JobState.QUEUED, limit=500)
        positions = {job.id: job_rows.queue_position(session, job) for job in queued}
        job_keys = {jid: (rev, positions.get(jid)) for jid, rev in job_revs.items()}
        if first:
            seen.studies, seen.jobs = study_revs, job_keys
            return [sse(ReadyEvent())]
        eta = services.eta.calculator(session)
        changed_jobs = [j for j, key in job_keys.items() if seen.jobs.get(j) != key]
        changed_studies = [s for s, rev in study_revs.items() if seen.studies.get(s) != rev]
        changed_studies += [
            job.study_id
            for job in job_rows.jobs_by_id(session, changed_jobs)
            if job.study_id not in changed_studies
        ]
        latest = job_rows.latest_jobs(session, changed_studies)
        for study in studies.studies_by_id(session, owner_id, changed_studies):
            public = study_public(session, study, latest.get(study.id), eta)
            events.append(sse(StudyEvent(data=public)))
        for job in job_rows.jobs_by_id(session, changed_jobs):
            events.append(sse(JobEvent(data=job_public(session, job, eta))))
    for job_id in seen.jobs.keys() - job_keys.keys():  # a comparison, or a deleted study's
        events.append(sse(JobDeletedEvent(data=Deleted(id=job_id))))
    for study_id in seen.studies.keys() - study_revs.keys():
        events.append(sse(StudyDeletedEvent(data=Deleted(id=study_id))))
    seen.studies, seen.jobs = study_revs, job_keys
    return events


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses=documented(
        UserEvent, "Events named `ready`, `study`, `study_deleted`, `job` and `job_deleted`; "
        "each one's `data` line is its payload as JSON (the schema: each event decoded)."
    ),
)
async def user_events(
    request: Request, user: CurrentUser, token: TokenDep, slot: StreamSlot, services: ServicesDep
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events for the study list: each study, job or comparison (a job) of yours
    when it changes or is deleted. The stream ends when its session does."""
    seen = _Seen()
    first = True
    watch = SessionWatch(services, token)
    while not await request.is_disconnected():
        if await watch.ended():
            return
        for event in await anyio.to_thread.run_sync(_changes, services, user.id, seen, first):
            yield event
        first = False
        await anyio.sleep(services.settings.sse_poll_s)
