"""What administrators see: every account and every job (never studies' files)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from iris3d.api.deps import AdminUser, ServicesDep
from iris3d.api.present import job_public
from iris3d.api.schemas import JobsPublic, UserPublic, UsersPublic
from iris3d.store import jobs as job_rows
from iris3d.store import users
from iris3d.store.models import JobState

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users")
def list_users(
    admin: AdminUser,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UsersPublic:
    with services.db.reader() as session:
        rows = users.list_users(session, offset=offset, limit=limit)
        total = users.count_users(session)
    return UsersPublic(items=[UserPublic.model_validate(u) for u in rows], total=total)


@router.get("/jobs")
def list_all_jobs(
    admin: AdminUser,
    services: ServicesDep,
    state: JobState | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JobsPublic:
    with services.db.reader() as session:
        rows = job_rows.list_jobs(
            session, None, state=state.value if state else None, offset=offset, limit=limit
        )
        eta = services.eta.calculator(session)
        return JobsPublic(items=[job_public(session, job, eta) for job in rows])
