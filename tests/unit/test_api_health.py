"""Operators' endpoints and the published OpenAPI schema."""

from __future__ import annotations

from pathlib import Path

from tests.support.service import (
    api_client,
    create_job,
    finish_next_job,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.api.app import create_app
from iris3d.contracts import Stage
from iris3d.phantom import Phantom


def test_creating_the_app_touches_nothing(tmp_path: Path) -> None:
    create_app(service_settings(tmp_path / "data"))
    assert not (tmp_path / "data").exists()


def test_health_and_readiness(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "storage": "ok"}
        (settings.data_dir / "storage" / ".tmp").rmdir()
        (settings.data_dir / "storage").chmod(0o500)
        try:
            not_ready = client.get("/readyz")
        finally:
            (settings.data_dir / "storage").chmod(0o700)
        if not_ready.status_code == 200:  # root ignores permissions; nothing more to learn
            return
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["storage"] != "ok"


def test_metrics_count_jobs_uploads_and_stage_times(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        content = phantom_nifti(small_phantom, tmp_path)
        study = upload_study(client, headers, content)
        create_job(client, headers, study["id"])
        create_job(client, headers, study["id"])
        finish_next_job(settings, {"glb": b"x"})
        text = client.get("/metrics").text
    assert 'iris_jobs{state="queued"} 1.0' in text
    assert 'iris_jobs{state="done"} 1.0' in text
    assert "iris_queue_depth 1.0" in text
    assert f"iris_upload_bytes_total {float(len(content))}" in text
    assert 'iris_uploads_total{outcome="accepted"} 1.0' in text
    assert 'route="/api/studies",status="201"' in text  # templates, not raw paths
    assert "# TYPE iris_stage_duration_seconds histogram" in text


def test_openapi_describes_every_resource(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path / "data")) as client:
        schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/auth/signin",
        "/api/studies",
        "/api/uploads",
        "/api/jobs",
        "/api/jobs/{job_id}/events",
        "/api/events",
        "/api/jobs/{job_id}/artifacts/{name}",
    ):
        assert path in paths, path
    upload = paths["/api/studies"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert (
        "text/event-stream"
        in paths["/api/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    )
    models = schema["components"]["schemas"]
    for model in ("JobPublic", "StudyPublic", "UserPublic", "SignedIn", "JobStage"):
        assert model in models
    assert set(models["JobStage"]["enum"]) >= {
        "queued",
        "ingest",
        "segment",
        "mesh",
        "export",
        "done",
        "failed",
        "cancelled",
    }
    # A job's row stores the pipeline's stage names: the API must know every one of them.
    assert set(models["JobStage"]["enum"]) >= {stage.value for stage in Stage}
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_without_a_web_app_the_front_door_is_the_api_documentation(tmp_path: Path) -> None:
    no_build = tmp_path / "web-never-built"
    with api_client(service_settings(tmp_path / "data", web_dir=no_build)) as client:
        front = client.get("/", follow_redirects=False)
        assert front.status_code == 307
        assert front.headers["location"] == "/docs"
        assert "swagger" in client.get("/docs").text.lower()
