"""What administrators see and do: every account and job (never studies' files), disabling
accounts, per-user quotas, invite codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from iris3d.api.account_schemas import InviteCreate, InviteCreated, UserDetail, UserUpdate
from iris3d.api.deps import NOT_FOUND, AdminUser, Offset, ServicesDep, not_found
from iris3d.api.present import job_public
from iris3d.api.schemas import JobsPublic, UserPublic, UsersPublic
from iris3d.api.security import new_token, token_hash
from iris3d.contracts import JobState
from iris3d.store import jobs as job_rows
from iris3d.store import users
from iris3d.store.models import utcnow

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users")
def list_users(
    admin: AdminUser,
    services: ServicesDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UsersPublic:
    with services.db.reader() as session:
        rows = users.list_users(session, offset=offset, limit=limit)
        total = users.count_users(session)
    return UsersPublic(items=[UserPublic.model_validate(u) for u in rows], total=total)


@router.patch("/users/{user_id}", responses=NOT_FOUND)
def update_user(
    user_id: str, body: UserUpdate, admin: AdminUser, services: ServicesDep
) -> UserDetail:
    """Disable (or enable) an account, and set its quotas. Disabling ends its sessions and
    tokens at once; its studies stay."""
    with services.db.session() as session:
        user = users.user_by_id(session, user_id)
        if user is None:
            raise not_found("account")
        if body.disabled is not None:
            users.set_disabled(session, user, body.disabled)
        if body.limits is not None:
            users.set_limits(session, user, {k.value: v for k, v in body.limits.items()})
        session.flush()
        return UserDetail.model_validate(user)


@router.post("/invites", status_code=status.HTTP_201_CREATED)
def create_invite(body: InviteCreate, admin: AdminUser, services: ServicesDep) -> InviteCreated:
    """A one-use code for ``IRIS_SIGNUP_MODE=invite``; only its hash is kept."""
    code = new_token()
    expires = utcnow() + timedelta(days=body.expires_in_days)
    with services.db.session() as session:
        users.add_invite(session, token_hash(code), admin.id, expires)
    return InviteCreated(code=code, expires_at=expires)


@router.get("/jobs")
def list_all_jobs(
    admin: AdminUser,
    services: ServicesDep,
    state: JobState | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JobsPublic:
    with services.db.reader() as session:
        rows = job_rows.list_jobs(
            session, None, state=state, offset=offset, limit=limit
        )
        eta = services.eta.calculator(session)
        return JobsPublic(items=[job_public(session, job, eta) for job in rows])
