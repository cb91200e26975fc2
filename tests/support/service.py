"""Helpers for the service's tests: settings in a temporary folder, signed-up users, studies,
and jobs finished by the same queue calls a worker makes (for tests that need results without
running the pipeline)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from iris3d.api.app import create_app
from iris3d.contracts import COMPARISON_INPUTS
from iris3d.jobs.runner import results_prefix
from iris3d.phantom import Phantom
from iris3d.phantom.files import write_nifti
from iris3d.settings import Settings
from iris3d.store import queue, users
from iris3d.store.blobs import open_blob_store
from iris3d.store.database import Database, database_url, open_database

PASSWORD = "correct horse battery"
COMPARABLE_FILES: dict[str, bytes] = {
    "glb": b"glTF" * 100,
    "thumbnail": b"\x89PNG" * 10,
    **{name: name.encode() for name in COMPARISON_INPUTS},
}
"""Artifacts for :func:`finish_next_job` that make a study comparable (the bytes are fake)."""


def service_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test service: its own folder and quick heartbeats."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "env": "development",
        "worker_heartbeat_s": 0.2,
        "worker_stale_s": 2.0,
        "worker_poll_s": 0.1,
        "progress_interval_s": 0.05,
        "sse_poll_s": 0.05,
        "job_max_attempts": 3,
        # Many accounts from one test client, many jobs per user: the limits get their own tests.
        "signup_per_client": 10_000,
        "quota_queued_jobs": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def api_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def sign_up(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Register and sign in; the bearer header to send (the client keeps no cookie)."""
    response = client.post("/api/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    response = client.post("/api/auth/signin", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def make_admin(settings: Settings, email: str) -> None:
    """What ``iris db make-admin EMAIL`` does (the only way to make an administrator)."""
    db = open_database(database_url(settings))
    try:
        with db.session() as session:
            user = users.user_by_email(session, email)
            assert user is not None, email
            users.set_admin(session, user, True)
    finally:
        db.dispose()


def phantom_nifti(phantom: Phantom, folder: Path | None = None) -> bytes:
    folder = folder or Path(tempfile.mkdtemp(prefix="iris-test-"))
    return write_nifti(phantom.ct, folder / "ct.nii.gz").read_bytes()


def upload_study(
    client: TestClient, headers: dict[str, str], content: bytes, filename: str = "ct.nii.gz"
) -> dict[str, Any]:
    response = client.post(
        "/api/studies",
        headers=headers,
        files=[("files", (filename, content, "application/octet-stream"))],
    )
    assert response.status_code == 201, response.text
    study: dict[str, Any] = response.json()
    return study


def create_job(
    client: TestClient, headers: dict[str, str], study_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"study_id": study_id, "quality": "fast", "engine": "tissue", **fields}
    response = client.post("/api/jobs", headers=headers, json=body)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def open_db(settings: Settings) -> Database:
    return open_database(database_url(settings))


def finish_next_job(settings: Settings, files: dict[str, bytes], seconds: float = 3.0) -> str:
    """Claim the next queued job and finish it with ``files`` as artifacts, as a worker would
    (store the files under the attempt's prefix, then mark the row done)."""
    db = open_db(settings)
    blobs = open_blob_store(settings)
    try:
        with db.session() as session:
            claim = queue.claim_next(session, "test-worker")
        assert claim is not None, "no queued job"
        artifacts = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in files.items():
                path = Path(tmp) / f"{name}.bin"
                path.write_bytes(content)
                prefix = results_prefix(claim)
                info = blobs.put_file(f"{prefix}/{name}.bin", path)
                artifacts[name] = {
                    "key": info.key,
                    "filename": f"{name}.bin",
                    "size": info.size,
                    "etag": info.etag,
                    "media_type": "application/octet-stream",
                }
        with db.session() as session:
            done = queue.finish_done(
                session,
                claim,
                artifacts=artifacts,
                engine_used="tissue",
                engine_reason="requested",
                timings={"segment": 1.0},
                duration_s=seconds,
            )
        assert done
        return claim.job_id
    finally:
        db.dispose()


# Every file a finished job offers for download, by artifact name.
ARTIFACTS = {
    "glb",
    "glb_plain",
    "meshes_zip",
    "labels_nifti",
    "ct_nifti",
    "labels_json",
    "statistics_json",
    "statistics_csv",
    "thumbnail",
    "manifest",
}
# Every file a finished comparison offers.
COMPARISON_ARTIFACTS = {"comparison_json", "comparison_csv", "comparison_glb"}
