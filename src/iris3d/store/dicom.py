"""PACS routing: each account's rule for studies sent to it, and the receipts of those studies."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from iris3d.store.models import DicomReceipt, DicomRule, utcnow


class ReceiptState(StrEnum):
    QUEUED = "queued"  # stored as a study; its job is queued or running
    REFUSED = "refused"  # nothing usable arrived, or a limit was reached: ``reason`` says which
    PROCESSED = "processed"  # the job finished and there is no destination (or nothing to send)
    DELIVERING = "delivering"  # one process is sending the results
    DELIVERED = "delivered"  # the results are at the destination
    FAILED = "failed"  # the job failed, or the destination refused the results: ``reason``


def rule_of(session: Session, user_id: str) -> DicomRule | None:
    return session.get(DicomRule, user_id)


def set_rule(
    session: Session, user_id: str, *, quality: str, engine: str, destination: str | None
) -> DicomRule:
    rule = session.get(DicomRule, user_id)
    if rule is None:
        rule = DicomRule(user_id=user_id, quality=quality, engine=engine)
        session.add(rule)
    rule.quality, rule.engine, rule.destination = quality, engine, destination
    rule.updated_at = utcnow()
    session.flush()
    return rule


def add_receipt(
    session: Session,
    owner_id: str,
    *,
    instances: int,
    size: int,
    state: ReceiptState,
    reason: str = "",
    study_id: str | None = None,
    job_id: str | None = None,
    destination: str | None = None,
) -> DicomReceipt:
    receipt = DicomReceipt(
        owner_id=owner_id,
        instances=instances,
        bytes=size,
        state=state.value,
        reason=reason,
        study_id=study_id,
        job_id=job_id,
        destination=destination,
    )
    session.add(receipt)
    session.flush()
    return receipt


def list_receipts(
    session: Session, owner_id: str, *, offset: int = 0, limit: int = 100
) -> list[DicomReceipt]:
    query = (
        select(DicomReceipt)
        .where(DicomReceipt.owner_id == owner_id)
        .order_by(DicomReceipt.created_at.desc(), DicomReceipt.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def owned_receipt(session: Session, owner_id: str, receipt_id: str) -> DicomReceipt | None:
    return session.scalar(
        select(DicomReceipt).where(DicomReceipt.id == receipt_id, DicomReceipt.owner_id == owner_id)
    )


def waiting_receipts(session: Session) -> list[DicomReceipt]:
    """Receipts whose job may have finished since they were last looked at."""
    query = select(DicomReceipt).where(DicomReceipt.state == ReceiptState.QUEUED.value)
    return list(session.scalars(query.order_by(DicomReceipt.created_at)))


def move_receipt(
    session: Session, receipt_id: str, before: ReceiptState, after: ReceiptState, reason: str = ""
) -> bool:
    """Change the receipt's state if it is still ``before``: of several processes looking at
    the same receipt, one wins."""
    result = session.execute(
        update(DicomReceipt)
        .where(DicomReceipt.id == receipt_id, DicomReceipt.state == before.value)
        .values(state=after.value, reason=reason, updated_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))
