"""Jobs: create for a study, list, status, cancel, retry, and live progress (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from iris3d.api.comparability import retry_refusal
from iris3d.api.deps import NOT_FOUND, CurrentUser, Offset, ServicesDep, TokenDep, not_found
from iris3d.api.event_schemas import (
    Deleted,
    JobEvent,
    JobGoneEvent,
    JobStreamEvent,
    documented,
    sse,
)
from iris3d.api.present import job_public
from iris3d.api.quotas import check_new_job
from iris3d.api.routes.engines import totalseg_qualities
from iris3d.api.schemas import JobCreate, JobPublic, JobsPublic, Message
from iris3d.api.services import Services
from iris3d.api.streams import SessionWatch, StreamSlot
from iris3d.contracts import FINISHED_STATES, EngineName, JobKind, JobState
from iris3d.settings import Settings
from iris3d.store import jobs as job_rows
from iris3d.store import studies
from iris3d.store.models import Job, User

router = APIRouter(prefix="/jobs", tags=["jobs"])


def _public(services: Services, job: Job) -> JobPublic:
    with services.db.reader() as session:
        return job_public(session, job, services.eta.calculator(session))


def owned_job(job_id: str, user: CurrentUser, services: ServicesDep) -> Job:
    with services.db.reader() as session:
        job = job_rows.owned_job(session, user.id, job_id)
    if job is None:
        raise not_found("job")
    return job


OwnedJob = Annotated[Job, Depends(owned_job)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **NOT_FOUND,
        403: {"model": Message, "description": "A quota is reached."},
        422: {"model": Message},
    },
)
def create_job(body: JobCreate, user: CurrentUser, services: ServicesDep) -> JobPublic:
    """Queue the study for processing."""
    with services.db.session() as session:
        check_new_job(session, user, services.settings)
        study = studies.owned_study(session, user.id, body.study_id)
        if study is None:
            raise not_found("study")
        _check_request(body, study.series, study.segmentation_key, services.settings)
        job = job_rows.add_job(
            session,
            study,
            quality=body.quality.value,
            engine=body.engine.value,
            series_uid=body.series_uid,
            max_attempts=services.settings.job_max_attempts,
        )
    services.executor.submit(job.id)
    return _public(services, job)


def _check_request(
    body: JobCreate, series: list[dict[str, object]], seg: str | None, settings: Settings
) -> None:
    if body.engine is EngineName.IMPORT and seg is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Engine 'import' needs your segmentation: PUT it to /api/studies/{id}/segmentation.",
        )
    if (body.engine is EngineName.TOTALSEGMENTATOR
            and body.quality not in totalseg_qualities(settings)):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"TotalSegmentator is not installed on this server for {body.quality.value!r} "
            "quality. Choose Automatic or the built-in tissue engine; an administrator can "
            "install its models.",
        )
    if body.series_uid is not None and body.series_uid not in {s.get("uid") for s in series}:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "No such series in the study.")


@router.get("")
def list_jobs(
    *,
    user: CurrentUser,
    services: ServicesDep,
    study_id: str | None = None,
    state: JobState | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JobsPublic:
    with services.db.reader() as session:
        rows = job_rows.list_jobs(
            session,
            user.id,
            study_id=study_id,
            state=state,
            offset=offset,
            limit=limit,
        )
        eta = services.eta.calculator(session)
        return JobsPublic(items=[job_public(session, job, eta) for job in rows])


@router.get("/{job_id}", responses=NOT_FOUND)
def get_job(job: OwnedJob, services: ServicesDep) -> JobPublic:
    return _public(services, job)


@router.post("/{job_id}/cancel", responses=NOT_FOUND)
def cancel_job(job: OwnedJob, services: ServicesDep) -> JobPublic:
    """Cancel a queued job now, or ask a running one to stop (it says ``cancelled`` when it has)."""
    with services.db.session() as session:
        cancelled = job_rows.request_cancel(session, job.id)
    if cancelled is None:
        raise not_found("job")
    return _public(services, cancelled)


@router.post(
    "/{job_id}/retry",
    responses={
        **NOT_FOUND,
        403: {"model": Message, "description": "A quota is reached."},
        409: {"model": Message},
    },
)
def retry_job(job: OwnedJob, user: CurrentUser, services: ServicesDep) -> JobPublic:
    """Queue a failed or cancelled job again (not a comparison bound to fail the same way)."""
    if job.kind == JobKind.COMPARISON and job.state in (JobState.FAILED, JobState.CANCELLED):
        refusal = retry_refusal(services, job)
        if refusal:
            raise HTTPException(status.HTTP_409_CONFLICT, refusal)
    with services.db.session() as session:
        if job.state in (JobState.FAILED, JobState.CANCELLED):  # else: a 409 below
            check_new_job(session, user, services.settings)
        requeued = job_rows.requeue_finished(session, job.id, services.settings.job_max_attempts)
        fresh = job_rows.job_by_id(session, job.id)
    if fresh is None:
        raise not_found("job")
    if not requeued:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "Only failed or cancelled jobs can be retried."
        )
    services.executor.submit(job.id)
    return _public(services, fresh)


def _snapshot(services: Services, user: User, job_id: str) -> JobPublic | None:
    with services.db.reader() as session:
        job = job_rows.owned_job(session, user.id, job_id)
        if job is None:
            return None
        return job_public(session, job, services.eta.calculator(session))


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={
        **documented(
            JobStreamEvent, "Events named `job` (the job as it is now) and `deleted` (the "
            "stream then ends); each one's `data` line is its payload as JSON."
        ),
        # Spelled out: the route's own media type (text/event-stream) is not this answer's.
        404: {
            "description": "Missing, or not yours.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
        },
    },
)
async def job_events(
    job: OwnedJob,
    request: Request,
    user: CurrentUser,
    token: TokenDep,
    slot: StreamSlot,
    services: ServicesDep,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: the job's status whenever it changes, until it finishes (or the
    session ends)."""
    last: tuple[object, ...] | None = None
    watch = SessionWatch(services, token)
    while not await request.is_disconnected():
        if await watch.ended():
            return
        current = await anyio.to_thread.run_sync(_snapshot, services, user, job.id)
        if current is None:
            yield sse(JobGoneEvent(data=Deleted(id=job.id)))
            return
        key = (
            current.state,
            current.stage,
            current.percent,
            current.message,
            current.queue_position,
            current.cancel_requested,
            current.attempts,
        )
        if key != last:
            last = key
            yield sse(JobEvent(data=current))
        if current.state in FINISHED_STATES:
            return
        await anyio.sleep(services.settings.sse_poll_s)
