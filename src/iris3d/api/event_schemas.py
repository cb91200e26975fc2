"""What the event streams send: one model per event, its name (``event``) beside its payload.

On the wire each event is a Server-Sent Event whose ``event:`` line is the name and whose
``data:`` line is the payload as JSON; these models describe the event once decoded, so the web
app's generated types cover every payload. The streams build their events from these models, so
an event name is written only here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi.sse import ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field

from iris3d.api.schemas import JobPublic, StudyPublic


class _Event(BaseModel):
    # The name has a default (so code builds events without repeating it), yet every event
    # carries it: required in the schema, so generated clients can tell events apart.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Deleted(BaseModel):
    """What was deleted."""

    id: str


class Nothing(BaseModel):
    """No payload."""

    model_config = ConfigDict(extra="forbid")


class ReadyEvent(_Event):
    """The stream listens: read the list afresh, for what changed while disconnected."""

    event: Literal["ready"] = "ready"
    data: Nothing = Field(default_factory=Nothing)


class StudyEvent(_Event):
    """A study of yours was added or changed (its latest job included)."""

    event: Literal["study"] = "study"
    data: StudyPublic


class StudyDeletedEvent(_Event):
    """A study of yours was deleted, with its jobs and comparisons."""

    event: Literal["study_deleted"] = "study_deleted"
    data: Deleted


class JobEvent(_Event):
    """A job (a study's processing or a comparison) changed."""

    event: Literal["job"] = "job"
    data: JobPublic


class JobDeletedEvent(_Event):
    """A job was deleted (a comparison, or the jobs of a deleted study)."""

    event: Literal["job_deleted"] = "job_deleted"
    data: Deleted


class JobGoneEvent(_Event):
    """The job this stream follows was deleted; the stream ends."""

    event: Literal["deleted"] = "deleted"
    data: Deleted


UserEvent = Annotated[
    ReadyEvent | StudyEvent | StudyDeletedEvent | JobEvent | JobDeletedEvent,
    Field(discriminator="event"),
]
"""An event of ``GET /api/events``."""

JobStreamEvent = Annotated[JobEvent | JobGoneEvent, Field(discriminator="event")]
"""An event of ``GET /api/jobs/{job_id}/events``."""

AnyEvent = ReadyEvent | StudyEvent | StudyDeletedEvent | JobEvent | JobDeletedEvent | JobGoneEvent


def sse(event: AnyEvent) -> ServerSentEvent:
    """The Server-Sent Event that carries ``event``."""
    return ServerSentEvent(event=event.event, data=event.data)


def documented(union: object, description: str) -> dict[int | str, dict[str, object]]:
    """A stream route's ``responses``: its events as components of the OpenAPI schema (under
    ``text/event-stream``), so that clients generated from the schema get their types."""
    return {200: {"model": union, "description": description}}
