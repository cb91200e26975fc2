"""Per-user quotas: defaults from settings, overrides per account; refusals are 403s that say
which limit, how much is used, and what to do."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from iris3d.api.account_schemas import Quota, QuotaName
from iris3d.api.services import Services
from iris3d.settings import Settings
from iris3d.store import users
from iris3d.store.models import User
from iris3d.store.usage import Usage, usage

_WHAT = {
    QuotaName.STORED_BYTES: "stored data",
    QuotaName.STUDIES: "studies",
    QuotaName.OPEN_UPLOADS: "unfinished uploads",
    QuotaName.UPLOAD_BYTES: "bytes reserved by unfinished uploads",
    QuotaName.QUEUED_JOBS: "queued or running jobs",
}
_ADVICE = {
    QuotaName.STORED_BYTES: "delete studies you no longer need",
    QuotaName.STUDIES: "delete studies you no longer need",
    QuotaName.OPEN_UPLOADS: "finish or cancel an upload first",
    QuotaName.UPLOAD_BYTES: "finish or cancel an upload first",
    QuotaName.QUEUED_JOBS: "wait for a job to finish or cancel one",
}


def limit_of(user: User, name: QuotaName, settings: Settings) -> int:
    override = (user.limits or {}).get(name.value)
    default: int = getattr(settings, f"quota_{name.value}")
    return int(override) if isinstance(override, int) else default


def quotas(user: User, used: Usage, settings: Settings) -> list[Quota]:
    return [
        Quota(name=name, limit=limit_of(user, name, settings), used=getattr(used, name.value))
        for name in QuotaName
    ]


def _size(value: int, name: QuotaName) -> str:
    if name in (QuotaName.STORED_BYTES, QuotaName.UPLOAD_BYTES):
        return f"{value / 2**20:,.0f} MiB"
    return str(value)


def _refuse_over(
    session: Session, user: User, settings: Settings, adding: dict[QuotaName, int]
) -> None:
    """403 if adding ``adding`` to what the account uses would pass one of its limits. In a
    writing session the account is locked first, so parallel requests are counted one after
    the other (the caller adds its row in the same transaction)."""
    users.lock_account(session, user.id)
    used = usage(session, user.id)
    for name, more in adding.items():
        limit, now = limit_of(user, name, settings), getattr(used, name.value)
        if now + more > limit:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"Quota reached: {_WHAT[name]} would be {_size(now + more, name)}, your limit "
                f"is {_size(limit, name)}; {_ADVICE[name]}, or ask an administrator.",
            )


def check_new_upload(session: Session, user: User, settings: Settings, size: int) -> None:
    _refuse_over(
        session,
        user,
        settings,
        {
            QuotaName.STUDIES: 1,
            QuotaName.OPEN_UPLOADS: 1,
            QuotaName.UPLOAD_BYTES: size,
            QuotaName.STORED_BYTES: size,
        },
    )


def check_new_study(user: User, services: Services, size: int) -> None:
    """Before a direct upload is read (the study's row is added after ingest, so parallel
    uploads may pass this together: the overshoot is bounded by IRIS_INGEST_CONCURRENCY)."""
    with services.db.reader() as session:
        _refuse_over(
            session,
            user,
            services.settings,
            {QuotaName.STUDIES: 1, QuotaName.STORED_BYTES: size},
        )


def check_new_job(session: Session, user: User, settings: Settings) -> None:
    _refuse_over(session, user, settings, {QuotaName.QUEUED_JOBS: 1})
