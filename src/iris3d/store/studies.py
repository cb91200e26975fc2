"""Studies and the chunked uploads that become them. Every read takes the owner: a study that
belongs to someone else is simply not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from iris3d.store.models import Job, Study, Upload, utcnow


def add_study(
    session: Session,
    *,
    study_id: str,
    owner_id: str,
    name: str,
    source_key: str,
    source_format: str,
    source_bytes: int,
    metadata: dict[str, Any],
    series: list[dict[str, Any]],
    shape: tuple[int, int, int],
    spacing_mm: tuple[float, float, float],
) -> Study:
    study = Study(
        id=study_id,
        owner_id=owner_id,
        name=name,
        labels=[],
        source_key=source_key,
        source_format=source_format,
        source_bytes=source_bytes,
        study_metadata=metadata,
        series=series,
        shape=list(shape),
        spacing_mm=list(spacing_mm),
        voxels=shape[0] * shape[1] * shape[2],
    )
    session.add(study)
    session.flush()
    return study


def owned_study(session: Session, owner_id: str, study_id: str) -> Study | None:
    return session.scalar(select(Study).where(Study.id == study_id, Study.owner_id == owner_id))


def list_studies(
    session: Session, owner_id: str, *, search: str | None = None, offset: int = 0, limit: int = 100
) -> list[Study]:
    query = select(Study).where(Study.owner_id == owner_id)
    if search:
        query = query.where(func.lower(Study.name).contains(search.lower(), autoescape=True))
    query = query.order_by(Study.created_at.desc(), Study.id).offset(offset).limit(limit)
    return list(session.scalars(query))


def study_revisions(session: Session, owner_id: str) -> dict[str, int]:
    """Each of the owner's studies and its revision, to notice changes cheaply."""
    rows = session.execute(select(Study.id, Study.revision).where(Study.owner_id == owner_id))
    return {study_id: revision for study_id, revision in rows}


def studies_by_id(session: Session, owner_id: str, ids: list[str]) -> list[Study]:
    if not ids:
        return []
    return list(session.scalars(select(Study).where(Study.owner_id == owner_id, Study.id.in_(ids))))


def update_study(
    session: Session,
    study_id: str,
    *,
    name: str | None = None,
    labels: list[str] | None = None,
    segmentation_key: str | None = None,
) -> Study | None:
    values: dict[str, Any] = {"updated_at": utcnow(), "revision": Study.revision + 1}
    if name is not None:
        values["name"] = name
    if labels is not None:
        values["labels"] = labels
    if segmentation_key is not None:
        values["segmentation_key"] = segmentation_key
    session.execute(update(Study).where(Study.id == study_id).values(**values))
    return session.get(Study, study_id, populate_existing=True)


def remove_study(session: Session, study_id: str) -> None:
    """Delete the row; its jobs and the comparisons it takes part in go with it."""
    session.execute(delete(Job).where(Job.follow_study_id == study_id))
    session.execute(delete(Job).where(Job.study_id == study_id))
    session.execute(delete(Study).where(Study.id == study_id))


def add_upload(
    session: Session, *, owner_id: str, size: int, suffix: str, expires_at: datetime
) -> Upload:
    upload = Upload(owner_id=owner_id, size=size, suffix=suffix, expires_at=expires_at)
    session.add(upload)
    session.flush()
    return upload


def owned_upload(session: Session, owner_id: str, upload_id: str) -> Upload | None:
    return session.scalar(select(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id))


def advance_upload(session: Session, upload_id: str, expected: int, received: int) -> bool:
    """Record ``received`` bytes if the upload still had ``expected`` (two writers: one wins)."""
    result = session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.received == expected)
        .values(received=received)
    )
    return bool(getattr(result, "rowcount", 0))


def remove_upload(session: Session, upload_id: str) -> None:
    session.execute(delete(Upload).where(Upload.id == upload_id))


def expired_uploads(session: Session, now: datetime) -> list[str]:
    return list(session.scalars(select(Upload.id).where(Upload.expires_at <= now)))
