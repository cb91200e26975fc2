"""Jobs through the API: create, status with queue position and ETA, cancel, retry, SSE."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.support.service import (
    api_client,
    create_job,
    finish_next_job,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)
from tests.support.waiting import wait_for

from iris3d.phantom import Phantom
from iris3d.settings import Settings
from iris3d.store import queue


def _setup(client: TestClient, phantom: Phantom, tmp_path: Path) -> tuple[dict[str, str], str]:
    headers = sign_up(client, "a@example.org")
    study = upload_study(client, headers, phantom_nifti(phantom, tmp_path))
    return headers, str(study["id"])


def test_a_new_job_is_queued_with_its_position(tmp_path: Path, small_phantom: Phantom) -> None:
    with api_client(service_settings(tmp_path / "data")) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        first = create_job(client, headers, study_id)
        second = create_job(client, headers, study_id, quality="normal", engine="auto")
        assert (first["state"], first["stage"], first["percent"]) == ("queued", "queued", 0.0)
        assert first["queue_position"] == 0 and second["queue_position"] == 1
        assert first["eta_seconds"] is None  # no past jobs to learn from yet
        listed = client.get("/api/jobs", headers=headers, params={"study_id": study_id}).json()
        assert [j["id"] for j in listed["items"]] == [second["id"], first["id"]]
        study = client.get(f"/api/studies/{study_id}", headers=headers).json()
        assert study["latest_job"]["id"] == second["id"]


def test_job_requests_are_checked(tmp_path: Path, small_phantom: Phantom) -> None:
    with api_client(service_settings(tmp_path / "data")) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        for body, status in [
            ({"study_id": "nope"}, 404),
            ({"study_id": study_id, "quality": "ultra"}, 422),
            ({"study_id": study_id, "engine": "magic"}, 422),
            ({"study_id": study_id, "engine": "import"}, 422),
            ({"study_id": study_id, "series_uid": "1.2.3"}, 422),
        ]:
            response = client.post("/api/jobs", headers=headers, json=body)
            assert response.status_code == status, body
        assert (
            "segmentation"
            in client.post(
                "/api/jobs", headers=headers, json={"study_id": study_id, "engine": "import"}
            ).json()["detail"]
        )


def test_eta_comes_from_past_jobs_of_the_same_quality(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        create_job(client, headers, study_id)
        finish_next_job(settings, {"glb": b"x"}, seconds=30.0)
        queued = [create_job(client, headers, study_id) for _ in range(2)]

        def etas() -> list[float | None]:
            jobs = [client.get(f"/api/jobs/{j['id']}", headers=headers).json() for j in queued]
            return [j["eta_seconds"] for j in jobs]

        # Past durations are re-read once per poll interval: wait for the server to learn.
        # Same size and quality as the 30 s job: 30 s for the first, 60 s for the one behind
        # it (no worker is alive, so one is assumed).
        wait_for(lambda: etas() == [30.0, 60.0], what="ETAs of 30 s and 60 s", timeout=10)


def test_cancel_a_queued_job_then_retry_it(tmp_path: Path, small_phantom: Phantom) -> None:
    with api_client(service_settings(tmp_path / "data")) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        job = create_job(client, headers, study_id)
        cancelled = client.post(f"/api/jobs/{job['id']}/cancel", headers=headers).json()
        assert (cancelled["state"], cancelled["stage"]) == ("cancelled", "cancelled")
        retried = client.post(f"/api/jobs/{job['id']}/retry", headers=headers)
        assert retried.status_code == 200 and retried.json()["state"] == "queued"
        again = client.post(f"/api/jobs/{job['id']}/retry", headers=headers)
        assert again.status_code == 409


def test_cancelling_a_running_job_asks_its_worker(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        job = create_job(client, headers, study_id)
        db = open_db(settings)
        with db.session() as session:
            claim = queue.claim_next(session, "w")
        assert claim is not None
        running = client.post(f"/api/jobs/{job['id']}/cancel", headers=headers).json()
        assert running["state"] == "running" and running["cancel_requested"]
        with db.session() as session:
            assert queue.heartbeat(session, claim).cancel_requested
        db.dispose()


def _read_events(
    client: TestClient, url: str, headers: dict[str, str], events: list[dict[str, Any]]
) -> None:
    """Append each event of the stream at ``url`` to ``events`` until the stream ends."""
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                events.append({"event": kind, **json.loads(line.removeprefix("data:"))})


def _work_in_step(settings: Settings, events: list[dict[str, Any]], failed: list[str]) -> None:
    """A worker's writes, in another thread: claim, three progress steps, done. Each write
    waits until the stream has shown the one before (a state shorter than the stream's poll
    may be skipped). The job ends whatever happens, so the stream ends too."""
    db = open_db(settings)
    claim = None
    try:
        wait_for(lambda: events, what="the stream's first event")
        with db.session() as session:
            claim = queue.claim_next(session, "w")
        assert claim is not None
        wait_for(lambda: events[-1]["state"] == "running", what="the job running", timeout=10)
        for stage, fraction in (("segment", 0.3), ("mesh", 0.7), ("export", 0.9)):
            with db.session() as session:
                queue.save_progress(session, claim, stage, fraction, stage)
            wait_for(lambda s=stage: events[-1]["stage"] == s, what=f"stage {stage}", timeout=10)
    except Exception as e:  # reported by the test, in its own thread
        failed.append(repr(e))
    finally:
        with db.session() as session:
            claim = claim or queue.claim_next(session, "w")
        db.dispose()
        if claim is not None:
            finish_next_job_from(settings, claim)


def finish_next_job_from(settings: Settings, claim: queue.Claim) -> None:
    db = open_db(settings)
    with db.session() as session:
        queue.finish_done(
            session,
            claim,
            artifacts={},
            engine_used="tissue",
            engine_reason="",
            timings={},
            duration_s=1.0,
        )
    db.dispose()


def test_job_events_stream_each_change_until_done(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        job = create_job(client, headers, study_id)
        events: list[dict[str, Any]] = []
        failed: list[str] = []
        worker = threading.Thread(target=_work_in_step, args=(settings, events, failed))
        worker.start()
        _read_events(client, f"/api/jobs/{job['id']}/events", headers, events)
        worker.join()
    assert not failed, failed
    stages = [e["stage"] for e in events]
    assert stages[0] == "queued" and stages[-1] == "done"
    assert {"segment", "mesh", "export"} <= set(stages)
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents)


def test_user_events_report_new_jobs_and_deleted_studies(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers, study_id = _setup(client, small_phantom, tmp_path)
        seen: list[dict[str, Any]] = []

        job: dict[str, Any] = {}

        def act() -> None:
            # In step with the stream: changes made before its first look, or undone before
            # its next one, would not be events. The study goes whatever happens, which ends
            # the stream.
            try:
                wait_for(lambda: seen, what="the stream's ready event", timeout=10)
                job.update(create_job(client, headers, study_id))
                wait_for(
                    lambda: any(e.get("id") == job["id"] for e in seen),
                    what="an event for the new job",
                    timeout=10,
                )
            finally:
                client.delete(f"/api/studies/{study_id}", headers=headers)

        thread = threading.Thread(target=act)
        thread.start()
        with client.stream("GET", "/api/events", headers=headers) as response:
            kind = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    seen.append({"event": kind, **json.loads(line.removeprefix("data:"))})
                    if kind == "study_deleted":
                        break
        thread.join()
    kinds = [e["event"] for e in seen]
    assert kinds[0] == "ready"
    assert "job" in kinds and "study" in kinds
    assert seen[-1] == {"event": "study_deleted", "id": study_id}
    assert {"event": "job_deleted", "id": job["id"]} in seen
