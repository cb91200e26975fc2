"""The event streams' payloads are OpenAPI components (so the web app's types are generated, not
cast), every event the study list's stream sends is one of them, and the upload limits the web
picker uses are the server's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.sse import ServerSentEvent
from pydantic import TypeAdapter
from tests.support.service import (
    api_client,
    create_job,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.api.event_schemas import JobStreamEvent, UserEvent
from iris3d.api.routes.events import _changes, _Seen
from iris3d.contracts.formats import DETACHED_HEADER_SUFFIXES, UPLOAD_SUFFIXES
from iris3d.phantom import Phantom
from iris3d.store import users

USER_EVENTS = {"ready", "study", "study_deleted", "job", "job_deleted"}
JOB_EVENTS = {"job", "deleted"}


def _decoded(event: ServerSentEvent) -> dict[str, Any]:
    """The event as a client decodes it: its name, and its data line parsed as JSON."""
    data = event.data
    text = data.model_dump_json() if hasattr(data, "model_dump_json") else json.dumps(data)
    return {"event": event.event, "data": json.loads(text)}


def _stream_events(schema: dict[str, Any], path: str) -> set[str]:
    content = schema["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]
    union = content["schema"]
    assert union["discriminator"]["propertyName"] == "event"
    names = set(union["discriminator"]["mapping"])
    models = schema["components"]["schemas"]
    for name, ref in union["discriminator"]["mapping"].items():
        model = models[ref.removeprefix("#/components/schemas/")]
        assert model["properties"]["event"]["const"] == name
        assert set(model["required"]) == {"event", "data"}, model  # both always there
    return names


def test_each_streams_events_are_components_told_apart_by_name(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path / "data")) as client:
        schema = client.get("/openapi.json").json()
    assert _stream_events(schema, "/api/events") == USER_EVENTS
    assert _stream_events(schema, "/api/jobs/{job_id}/events") == JOB_EVENTS
    models = schema["components"]["schemas"]
    study_data = models["StudyEvent"]["properties"]["data"]
    assert study_data == {"$ref": "#/components/schemas/StudyPublic"}
    assert "StudyDeleted" not in models  # the payload of a deletion is `Deleted`, for both kinds


def test_what_the_study_list_stream_sends_matches_its_schema(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    user_event = TypeAdapter(UserEvent)
    with api_client(service_settings(tmp_path / "data")) as client:
        headers = sign_up(client, "a@example.org")
        services = client.app.state.services  # type: ignore[attr-defined]
        with services.db.reader() as session:
            owner = users.user_by_email(session, "a@example.org")
            assert owner is not None
            owner_id = owner.id
        seen = _Seen()
        sent = _changes(services, owner_id, seen, first=True)
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        job = create_job(client, headers, study["id"])
        sent += _changes(services, owner_id, seen, first=False)
        assert client.delete(f"/api/studies/{study['id']}", headers=headers).status_code == 204
        sent += _changes(services, owner_id, seen, first=False)
    decoded = [user_event.validate_python(_decoded(event)) for event in sent]
    assert [e.event for e in decoded] == ["ready", "study", "job", "job_deleted", "study_deleted"]
    assert decoded[1].data.id == study["id"] and decoded[2].data.id == job["id"]  # type: ignore[union-attr]
    assert decoded[3].data.id == job["id"] and decoded[4].data.id == study["id"]  # type: ignore[union-attr]


def test_a_job_streams_events_decode_as_its_schema_says() -> None:
    job_event = TypeAdapter(JobStreamEvent)
    gone = job_event.validate_python({"event": "deleted", "data": {"id": "j1"}})
    assert gone.event == "deleted" and gone.data.id == "j1"


def test_the_upload_picker_gets_the_servers_suffixes(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path / "data", max_upload_bytes=12345)) as client:
        assert client.get("/api/limits").status_code == 401
        headers = sign_up(client, "a@example.org")
        limits = client.get("/api/limits", headers=headers).json()
    assert limits["upload_suffixes"] == list(UPLOAD_SUFFIXES)
    assert limits["detached_header_suffixes"] == list(DETACHED_HEADER_SUFFIXES)
    assert not set(UPLOAD_SUFFIXES) & set(DETACHED_HEADER_SUFFIXES)  # `.mhd` alone is refused
    assert limits["max_upload_bytes"] == 12345
