"""The whole service as a user meets it: ``iris serve`` (uvicorn on 127.0.0.1) with a real worker
process, driven over HTTP: register -> upload -> job -> live progress -> downloads -> delete;
isolation on every endpoint; a worker SIGKILLed mid-job; migrations from empty.

The tests on the shared ``service`` run twice: on one machine's defaults (SQLite, a folder, workers
claiming rows) and scaled out (PostgreSQL, SeaweedFS S3, Celery on Redis)."""

from __future__ import annotations

import io
import signal
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.live_server import LiveService, iris_command, job_events, wait_for
from tests.support.scale import postgres_database, redis_url, seaweedfs, stored_keys
from tests.support.service import ARTIFACTS, COMPARISON_ARTIFACTS
from tests.unit.test_api_isolation import OWNED, REQUESTS

from iris3d.imageio import write_label_map
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti
from iris3d.settings import Settings
from iris3d.store import dicom
from iris3d.store.database import database_url, open_database
from iris3d.store.migrate import head_revision

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["local", "scaled"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveService]:
    folder = tmp_path_factory.mktemp(f"service-{request.param}")
    with ExitStack() as stack:
        env: dict[str, str] = {}
        if request.param == "scaled":
            env.update(stack.enter_context(seaweedfs(folder / "s3")))
            env["IRIS_DATABASE_URL"] = stack.enter_context(postgres_database())
            env["IRIS_QUEUE_URL"] = redis_url()
        live = LiveService(folder / "data", workers=1, **env)
        live.start()
        stack.callback(live.stop)
        yield live


def _upload(http: httpx.Client, name: str, content: bytes) -> dict[str, Any]:
    response = http.post("/api/studies", files=[("files", (name, content, "application/zip"))])
    assert response.status_code == 201, response.text
    study: dict[str, Any] = response.json()
    return study


def _run_job(http: httpx.Client, study_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = {"study_id": study_id, "quality": "fast", "engine": "tissue"}
    job = http.post("/api/jobs", json=body).json()
    events = list(job_events(http, job["id"]))
    return events[-1], events


def _dicom_zip(phantom: Phantom, folder: Path) -> bytes:
    paths = write_dicom_series(phantom.ct, folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in paths:
            zf.write(path, path.name)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def finished(
    service: LiveService, small_phantom: Phantom, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A user whose NIfTI study went through a job, with everything the tests look at."""
    tmp = tmp_path_factory.mktemp("finished")
    token = service.sign_up("owner@example.org")
    with service.client(token) as http:
        nifti = write_nifti(small_phantom.ct, tmp / "ct.nii.gz").read_bytes()
        study = _upload(http, "ct.nii.gz", nifti)
        job, events = _run_job(http, study["id"])
        later = _upload(http, "later.nii.gz", nifti)
        _run_job(http, later["id"])
        comparison, comparison_events = _run_comparison(http, study["id"], later["id"])
        upload = http.post("/api/uploads", json={"size": 100}).json()
    return {
        "token": token,
        "study": study,
        "later": later,
        "job": job,
        "events": events,
        "comparison": comparison,
        "comparison_events": comparison_events,
        "upload_id": upload["id"],
    }


def _run_comparison(
    http: httpx.Client, base_id: str, follow_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    body = {"base_study_id": base_id, "follow_study_id": follow_id}
    created = http.post("/api/comparisons", json=body)
    assert created.status_code == 201, created.text
    events = list(job_events(http, created.json()["id"]))
    comparison: dict[str, Any] = http.get(f"/api/comparisons/{created.json()['id']}").json()
    return comparison, events


def test_a_nifti_study_becomes_a_model_with_live_progress(finished: dict[str, Any]) -> None:
    job, events = finished["job"], finished["events"]
    assert job["state"] == "done", job
    assert job["engine_used"] == "tissue"
    stages = [e["stage"] for e in events]
    assert stages[-1] == "done"
    # Live: several pipeline stages arrive while it runs (a stage shorter than a poll may not).
    running = {"ingest", "segment", "mesh", "export", "stats"}
    assert len(running & set(stages)) >= 2, stages
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert {a["name"] for a in job["artifacts"]} == ARTIFACTS
    assert job["duration_s"] > 0 and job["timings_s"]


def test_a_worker_compares_two_studies_and_both_show_it(
    service: LiveService, finished: dict[str, Any]
) -> None:
    comparison, events = finished["comparison"], finished["comparison_events"]
    job = comparison["job"]
    assert job["state"] == "done", job
    assert events[-1]["percent"] == 100.0 and {"register", "compare"} & {
        e["stage"] for e in events
    }
    assert {a["name"] for a in job["artifacts"]} == COMPARISON_ARTIFACTS
    urls = {a["name"]: a["url"] for a in job["artifacts"]}
    with service.client(finished["token"]) as http:
        table = http.get(urls["comparison_json"]).json()
        # The same CT twice: every structure in both, unchanged, and aligned well.
        assert table["alignment"]["verdict"] == "good"
        rows = table["structures"]
        assert rows and all(row["status"] == "both" for row in rows)
        assert max(abs(row["change_percent"]) for row in rows) < 0.5
        assert http.get(urls["comparison_glb"]).content[:4] == b"glTF"
        assert http.get(urls["comparison_csv"]).status_code == 200
        for study in (finished["study"], finished["later"]):
            listed = http.get("/api/comparisons", params={"study_id": study["id"]}).json()
            assert [c["id"] for c in listed["items"]] == [comparison["id"]]


def test_deleting_a_comparison_removes_its_files(
    service: LiveService, finished: dict[str, Any]
) -> None:
    with service.client(finished["token"]) as http:
        comparison, _ = _run_comparison(http, finished["later"]["id"], finished["study"]["id"])
        assert comparison["job"]["state"] == "done"
        folder = f"comparisons/{comparison['id']}"
        assert stored_keys(service.env, service.data_dir, folder)
        assert http.delete(f"/api/comparisons/{comparison['id']}").status_code == 204
        assert http.get(f"/api/comparisons/{comparison['id']}").status_code == 404
    assert stored_keys(service.env, service.data_dir, folder) == []


def test_downloads_support_ranges_etags_and_links(
    service: LiveService, finished: dict[str, Any]
) -> None:
    urls = {a["name"]: a["url"] for a in finished["job"]["artifacts"]}
    with service.client(finished["token"]) as http:
        glb = http.get(urls["glb"])
        assert glb.status_code == 200 and glb.content[:4] == b"glTF"
        head = http.get(urls["glb"], headers={"Range": "bytes=0-11"})
        assert head.status_code == 206 and head.content == glb.content[:12]
        cached = http.get(urls["glb"], headers={"If-None-Match": glb.headers["etag"]})
        assert cached.status_code == 304
        assert zipfile.ZipFile(io.BytesIO(http.get(urls["meshes_zip"]).content)).namelist()
        assert http.get(urls["statistics_csv"]).content.startswith(b"label,name,")
        thumb_url = http.get(f"/api/studies/{finished['study']['id']}").json()["thumbnail_url"]
        assert http.get(thumb_url).content[:4] == b"\x89PNG"
        link = http.post(f"{urls['glb']}/link").json()["url"]
    with service.client() as anonymous:
        assert anonymous.get(urls["glb"]).status_code == 401
        assert anonymous.get(link).content == glb.content


def test_a_dicom_zip_study_is_processed_too(
    service: LiveService, small_phantom: Phantom, tmp_path: Path
) -> None:
    token = service.sign_up("dicom@example.org")
    with service.client(token) as http:
        study = _upload(http, "scan.zip", _dicom_zip(small_phantom, tmp_path))
        assert study["source_format"] == "zip" and len(study["series"]) == 1
        job, _ = _run_job(http, study["id"])
    assert job["state"] == "done", job
    # A study that came as DICOM also goes back as DICOM: a DICOM-SEG and its measurements (SR).
    assert {a["name"] for a in job["artifacts"]} == ARTIFACTS | {"dicom_seg", "dicom_sr"}


@pytest.fixture(scope="module")
def other_token(service: LiveService) -> str:
    return service.sign_up("other@example.org")


@pytest.mark.parametrize(("method", "route"), OWNED)
def test_another_user_gets_404_from_the_real_server(
    service: LiveService, finished: dict[str, Any], other_token: str, method: str, route: str
) -> None:
    ids = {
        "study_id": finished["study"]["id"],
        "job_id": finished["job"]["id"],
        "comparison_id": finished["comparison"]["id"],
        "upload_id": finished["upload_id"],
        "name": "glb",
        "token": "x",
    }
    with service.client(finished["token"]) as http:
        ids["token_id"] = http.get("/api/auth/tokens").json()["items"][0]["id"]
        ids["server_id"], ids["receipt_id"] = _pacs_server_and_receipt(service, http)
    with service.client(other_token) as http:
        response = http.request(method, route.format(**ids), **REQUESTS[(method, route)])
        assert response.status_code == 404, response.text
    with service.client(finished["token"]) as http:  # the owner still has it
        assert http.get(f"/api/studies/{ids['study_id']}").status_code == 200
        assert http.get(f"/api/uploads/{ids['upload_id']}").status_code == 200


def _pacs_server_and_receipt(service: LiveService, http: httpx.Client) -> tuple[str, str]:
    """The owner's PACS server (nothing listens there: only ownership is tested) and a receipt
    of a study a PACS sent (only the receiver makes those: written to the service's database)."""
    server = http.post("/api/pacs/servers",
                       json={"name": "PACS", "url": "http://127.0.0.1:9/dicom-web"})
    assert server.status_code == 201, server.text
    me = http.get("/api/auth/me").json()
    settings = Settings(data_dir=service.data_dir,
                        database_url=service.env.get("IRIS_DATABASE_URL") or None)
    db = open_database(database_url(settings))
    try:
        with db.session() as session:
            receipt = dicom.add_receipt(session, me["id"], instances=1, size=1,
                                        state=dicom.ReceiptState.FAILED)
            return str(server.json()["id"]), receipt.id
    finally:
        db.dispose()


def test_another_users_study_cannot_be_queued(
    service: LiveService, finished: dict[str, Any], other_token: str
) -> None:
    with service.client(other_token) as http:
        body = {"study_id": finished["study"]["id"], "engine": "tissue"}
        assert http.post("/api/jobs", json=body).status_code == 404


def test_deleting_a_study_removes_every_file(
    service: LiveService, small_phantom: Phantom, tmp_path: Path
) -> None:
    token = service.sign_up("deleter@example.org")
    with service.client(token) as http:
        nifti = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz").read_bytes()
        study = _upload(http, "ct.nii.gz", nifti)
        job, _ = _run_job(http, study["id"])
        assert job["state"] == "done"
        folder = f"studies/{study['id']}"
        assert any(k.endswith(".glb") for k in stored_keys(service.env, service.data_dir, folder))
        assert http.delete(f"/api/studies/{study['id']}").status_code == 204
        assert http.get(f"/api/studies/{study['id']}").status_code == 404
        assert http.get(f"/api/jobs/{job['id']}").status_code == 404
        assert http.get(job["artifacts"][0]["url"]).status_code == 404
    assert stored_keys(service.env, service.data_dir, folder) == []


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes(tmp_path: Path) -> None:
    # A larger phantom (a job of ~3 s here) so the worker can be caught in the middle.
    phantom = make_phantom(shape=(80, 68, 40), spacing=(4.8, 4.8, 4.8))
    content = write_nifti(phantom.ct, tmp_path / "ct.nii.gz").read_bytes()
    live = LiveService(tmp_path / "data", workers=0)
    live.start()
    try:
        with live.explained():
            token = live.sign_up("crash@example.org")
            with live.client(token) as http:
                study = _upload(http, "ct.nii.gz", content)
                body = {"study_id": study["id"], "quality": "fast", "engine": "tissue"}
                job = http.post("/api/jobs", json=body).json()
                first = live.start_worker()
                running = wait_for(http, job["id"], {"running", "done", "failed"})
                first.send_signal(signal.SIGKILL)
                first.wait()
                assert running["state"] == "running", "the job ended before the worker was killed"
                # Nothing half-written is visible while the job waits for a new worker.
                orphan = http.get(f"/api/jobs/{job['id']}").json()
                assert orphan["state"] in ("running", "queued") and orphan["artifacts"] == []
                assert http.get(f"/api/jobs/{job['id']}/artifacts/glb").status_code == 404
                requeued = wait_for(http, job["id"], {"queued"}, timeout_s=30)
                assert "retrying" in requeued["message"]
                live.start_worker()
                done = wait_for(http, job["id"], {"done", "failed"}, timeout_s=180)
            assert done["state"] == "done", done
            assert done["attempts"] == 2
            stored = live.data_dir / "storage" / "studies" / study["id"] / "jobs" / job["id"]
            assert sorted(p.name for p in stored.iterdir()) == ["a2"]
            assert {p.name for p in (stored / "a2").iterdir()} == {
                Path(a["filename"]).name for a in done["artifacts"]
            }
    finally:
        live.stop()


def test_the_server_killed_mid_job_loses_nothing_on_restart(tmp_path: Path) -> None:
    phantom = make_phantom(shape=(80, 68, 40), spacing=(4.8, 4.8, 4.8))
    content = write_nifti(phantom.ct, tmp_path / "ct.nii.gz").read_bytes()
    live = LiveService(tmp_path / "data", workers=1)
    live.start()
    try:
        with live.explained():
            token = live.sign_up("restart@example.org")
            with live.client(token) as http:
                study = _upload(http, "ct.nii.gz", content)
                body = {"study_id": study["id"], "quality": "fast", "engine": "tissue"}
                job = http.post("/api/jobs", json=body).json()
                assert wait_for(http, job["id"], {"running", "done"})["state"] == "running"
            assert live.server is not None
            # SIGKILL the API, which is also the parent of its worker (told to stop with it).
            live.server.send_signal(signal.SIGKILL)
            live.server.wait()
            live.start()  # the same data folder and port
            with live.client(token) as http:
                done = wait_for(http, job["id"], {"done", "failed"}, timeout_s=180)
                assert done["state"] == "done", done
                assert http.get(done["artifacts"][0]["url"]).status_code == 200
                assert (
                    http.get(f"/api/studies/{study['id']}").json()["latest_job"]["id"] == job["id"]
                )
    finally:
        live.stop()


def test_migrations_from_an_empty_database(tmp_path: Path) -> None:
    env = {"IRIS_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        iris_command("db", "upgrade"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    from sqlalchemy import create_engine, inspect

    tables = inspect(create_engine(f"sqlite:///{tmp_path / 'data' / 'iris.db'}")).get_table_names()
    assert {"users", "studies", "jobs", "alembic_version"} <= set(tables)


def test_the_remote_cli_uploads_follows_and_downloads(
    service: LiveService, small_phantom: Phantom, tmp_path: Path
) -> None:
    service.sign_up("cli@example.org", "cli password 1")
    nifti = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    env = {**service.env, "IRIS_DATA_DIR": str(tmp_path / "client")}

    def iris(*args: str) -> str:
        result = subprocess.run(
            iris_command(*args), env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    iris(
        "remote", "login", service.url, "--email", "cli@example.org", "--password", "cli password 1"
    )
    assert (tmp_path / "client" / "remote.json").stat().st_mode & 0o077 == 0
    out = iris("remote", "upload", str(nifti), "--engine", "tissue", "--quality", "fast")
    job_id = out.split("job ")[1].split()[0]
    assert job_id in iris("remote", "status")
    iris("remote", "download", job_id, "--out", str(tmp_path / "results"))
    names = {p.name for p in (tmp_path / "results").iterdir()}
    assert any(n.endswith(".glb") for n in names) and len(names) == len(ARTIFACTS)

    first = out.split("study ")[1].split()[0]
    again = iris("remote", "upload", str(nifti), "--engine", "tissue")
    second = again.split("study ")[1].split()[0]
    compared = iris("remote", "compare", first, second)
    comparison_id = compared.split("comparison ")[1].split()[0]
    iris("remote", "download", comparison_id, "--out", str(tmp_path / "comparison"))
    files = {p.name for p in (tmp_path / "comparison").iterdir()}
    assert files == {"comparison.json", "comparison.csv", "comparison.glb"}


def test_the_remote_cli_brings_its_own_segmentation(
    service: LiveService, small_phantom: Phantom, tmp_path: Path
) -> None:
    token = service.sign_up("cli-labels@example.org", "cli password 1")
    nifti = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    labels, _ = write_label_map(small_phantom.labels, tmp_path / "mine" / "labels.nii.gz")
    env = {**service.env, "IRIS_DATA_DIR": str(tmp_path / "client")}

    def iris(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            iris_command(*args), env=env, capture_output=True, text=True, timeout=180, check=False
        )

    login = iris("remote", "login", service.url, "--email", "cli-labels@example.org",
                 "--password", "cli password 1")
    assert login.returncode == 0, login.stderr
    done = iris("remote", "upload", str(nifti), "--segmentation", str(labels))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "with import" in done.stdout
    job_id = done.stdout.split("job ")[1].split()[0]
    http = service.client(token)
    assert http.get(f"/api/jobs/{job_id}").json()["engine_used"] == "import"

    # Refused before anything is sent: a wrong kind of file, a contradicting engine.
    wrong_kind = tmp_path / "labels.txt"
    wrong_kind.write_text("not a label map")
    for args in (("--segmentation", str(wrong_kind)),
                 ("--segmentation", str(labels), "--engine", "tissue"),
                 ("--engine", "import")):
        refused = iris("remote", "upload", str(nifti), *args)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    # A NIfTI name over garbage: the server refuses it and the study goes with it.
    garbage = tmp_path / "broken.nii.gz"
    garbage.write_bytes(b"\x1f\x8b not really gzip")
    refused = iris("remote", "upload", str(nifti), "--segmentation", str(garbage))
    assert refused.returncode == 2 and "broken.nii.gz was refused" in refused.stderr
    assert "Traceback" not in refused.stderr and "/" not in refused.stderr.split("refused")[1]
    assert len(http.get("/api/studies").json()["items"]) == 1
