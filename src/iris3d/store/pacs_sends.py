"""Results waiting to go to a PACS when their job finishes. One row per job; a sender claims a
row (pending -> sending) before it sends, so two API processes never send the same results. A
row left ``sending`` by a process that stopped mid-send is claimed again once it is stale (the
results sent twice carry the same UIDs, so a PACS keeps one copy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from iris3d.contracts import FINISHED_STATES
from iris3d.store.models import Job, PacsSend, PacsSendState, utcnow


def add_send(session: Session, *, job_id: str, owner_id: str, server_id: str) -> PacsSend:
    send = PacsSend(job_id=job_id, owner_id=owner_id, server_id=server_id)
    session.add(send)
    session.flush()
    return send


def _claimable(stale_before: datetime) -> Any:
    return or_(
        PacsSend.state == PacsSendState.PENDING.value,
        and_(PacsSend.state == PacsSendState.SENDING.value, PacsSend.updated_at < stale_before),
    )


def due_sends(session: Session, stale_before: datetime, limit: int = 20) -> list[str]:
    """Ids of the jobs that finished (in any way) and whose results still wait to be sent."""
    finished = [state.value for state in FINISHED_STATES]
    query = (
        select(PacsSend.job_id)
        .join(Job, Job.id == PacsSend.job_id)
        .where(_claimable(stale_before), Job.state.in_(finished))
        .order_by(PacsSend.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, job_id: str, stale_before: datetime) -> PacsSend | None:
    """The send, now ``sending``, if no one else claimed it first."""
    claimed = session.execute(
        update(PacsSend)
        .where(PacsSend.job_id == job_id, _claimable(stale_before))
        .values(state=PacsSendState.SENDING.value, updated_at=utcnow())
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return session.get(PacsSend, job_id)


def finish(session: Session, job_id: str, state: PacsSendState, detail: str | None) -> None:
    session.execute(
        update(PacsSend)
        .where(PacsSend.job_id == job_id)
        .values(state=state.value, detail=detail, updated_at=utcnow())
    )


def send_of(session: Session, owner_id: str, job_id: str) -> PacsSend | None:
    return session.scalar(
        select(PacsSend).where(PacsSend.job_id == job_id, PacsSend.owner_id == owner_id)
    )
