"""The tables. Only ``iris3d.store`` writes them; other layers read the rows it returns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from iris3d.contracts import JobKind, JobState, Stage


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class NameColumn(TypeDecorator[E]):
    """A vocabulary name (:mod:`iris3d.contracts`) stored as its string: a value outside the
    vocabulary is refused on the way in, and rows read back as the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A disabled account cannot sign in and its tokens stop working; its data stays.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Per-user quota overrides (names of ``QuotaName``); absent names use the settings' defaults.
    limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TokenKind(StrEnum):
    SESSION = "session"  # a sign-in: ends when idle for IRIS_SESSION_IDLE_S
    API = "api"  # made for a script, named, listed and revocable; no idle timeout
    DICOM = "dicom"  # lets a PACS send studies (STOW-RS) and nothing else; no idle timeout


class AuthToken(Base):
    """A session (browser cookie) or an API token; only a hash of the secret is kept."""

    __tablename__ = "auth_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16), default=TokenKind.SESSION.value)
    name: Mapped[str] = mapped_column(String(100), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(default=utcnow)


class Identity(Base):
    """An account at an OpenID provider linked to a local account: found again by the provider's
    (issuer, subject), never by e-mail, which a provider may reassign."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signin_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invite(Base):
    """A one-use code an administrator hands out when sign-up is invite-only."""

    __tablename__ = "invites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_key: Mapped[str] = mapped_column(String(400))
    source_format: Mapped[str] = mapped_column(String(40))
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    segmentation_key: Mapped[str | None] = mapped_column(String(400), default=None)
    study_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    series: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    shape: Mapped[list[int]] = mapped_column(JSON)
    spacing_mm: Mapped[list[float]] = mapped_column(JSON)
    voxels: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class Upload(Base):
    """A chunked upload in progress: bytes so far live in a staging file named by ``id``."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    suffix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_created", "state", "created_at"),
        Index("ix_jobs_state_owner", "state", "owner_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[JobKind] = mapped_column(NameColumn(JobKind), default=JobKind.STUDY)
    # A comparison's later study (``study_id`` holds the earlier one), and the two study jobs
    # whose results it compares; deleting either study deletes the comparison.
    follow_study_id: Mapped[str | None] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), index=True, default=None
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quality: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(32))
    series_uid: Mapped[str | None] = mapped_column(String(128), default=None)
    voxels: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[JobState] = mapped_column(NameColumn(JobState), default=JobState.QUEUED)
    stage: Mapped[Stage | None] = mapped_column(NameColumn(Stage), default=None)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    engine_used: Mapped[str | None] = mapped_column(String(64), default=None)
    engine_reason: Mapped[str | None] = mapped_column(Text, default=None)
    artifacts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)


WAITING_MESSAGE = "waiting for a worker"


def job_changes(**values: Any) -> dict[str, Any]:
    """``values`` for an UPDATE of jobs, with the new ``updated_at`` and ``revision`` that the
    event streams watch."""
    return {**values, "updated_at": utcnow(), "revision": Job.revision + 1}


def back_in_queue(**values: Any) -> dict[str, Any]:
    """A job's changes as it waits for a worker again (``values`` add to or override them)."""
    return job_changes(**{"state": JobState.QUEUED, "stage": None, "progress": 0.0,
                          "worker_id": None, "heartbeat_at": None, "message": WAITING_MESSAGE,
                          **values})


class Worker(Base):
    """A live worker process, known by its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[str | None] = mapped_column(String(32), default=None)


class PacsServer(Base):
    """A user's own DICOMweb server. ``secret`` (password or token) is kept as given, because
    Iris must present it to the PACS; the API never returns it."""

    __tablename__ = "pacs_servers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    auth: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(200), default=None)
    secret: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Counter(Base):
    """Monotonic figures that several processes add to (stage-duration histograms)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    labels: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)


class DicomRule(Base):
    """What happens to studies a PACS sends to this account: how they are processed and where
    the results go (a PACS server's id from the user's PACS configuration; none: kept only)."""

    __tablename__ = "dicom_rules"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quality: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DicomReceipt(Base):
    """One study a PACS sent, from its arrival to its results' delivery; it keeps counts and
    reasons, never the study's identifiers."""

    __tablename__ = "dicom_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    instances: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    study_id: Mapped[str | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), default=None
    )
    job_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), default=None
    )
    destination: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PacsSendState(StrEnum):
    PENDING = "pending"  # waiting for the job to finish
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # the PACS refused or was unreachable; ``detail`` says why
    SKIPPED = "skipped"  # the job failed or was cancelled, or made no DICOM results


class PacsSend(Base):
    """A job's results to send to a PACS when it finishes (asked for when the series was
    pulled). Only ids: the patient's identifiers are fetched from the PACS when sending."""

    __tablename__ = "pacs_sends"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    server_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=PacsSendState.PENDING.value, index=True)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
