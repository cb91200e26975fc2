"""Results waiting to go to a PACS when their job finishes. One row per job; a sender claims a
row (pending -> sending) before it sends, so two API processes never send the same results."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from iris3d.store.models import FINISHED_STATES, Job, PacsSend, PacsSendState, utcnow


def add_send(session: Session, *, job_id: str, owner_id: str, server_id: str) -> PacsSend:
    send = PacsSend(job_id=job_id, owner_id=owner_id, server_id=server_id)
    session.add(send)
    session.flush()
    return send


def due_sends(session: Session, limit: int = 20) -> list[str]:
    """Ids of the jobs that finished (in any way) and whose results still wait to be sent."""
    finished = [state.value for state in FINISHED_STATES]
    query = (
        select(PacsSend.job_id)
        .join(Job, Job.id == PacsSend.job_id)
        .where(PacsSend.state == PacsSendState.PENDING.value, Job.state.in_(finished))
        .order_by(PacsSend.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, job_id: str) -> PacsSend | None:
    """The send, now ``sending``, if no one else claimed it first."""
    claimed = session.execute(
        update(PacsSend)
        .where(PacsSend.job_id == job_id, PacsSend.state == PacsSendState.PENDING.value)
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
