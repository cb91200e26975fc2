"""Iris against a real Orthanc (DICOMweb): search, pull a series in as a study, process it, and
the failures a user meets (PACS down, errors, wrong password), with nothing half-made left and
no patient identifier from the PACS in Iris's database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.live_server import LiveService, free_port, wait_for
from tests.support.orthanc import Orthanc, orthanc_server, store_instances

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series

# What the synthetic series carries about its "patient" (iris3d.phantom.dicom).
IDENTIFIERS = ("Phantom^Iris", "IRIS-PHANTOM-0001", "IRISACC0001", "Doctor^Phantom")
DESCRIPTION = "Abdomen soft tissue"


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, small_phantom: Phantom) -> Iterator[Orthanc]:
    folder = tmp_path_factory.mktemp("orthanc")
    paths = write_dicom_series(small_phantom.ct, folder / "series", series_description=DESCRIPTION)
    with orthanc_server(folder / "pacs") as server:
        store_instances(server, paths)
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("iris") / "data", workers=1)
    live.start()
    yield live
    live.stop()


def _user(service: LiveService, email: str) -> httpx.Client:
    return service.client(service.sign_up(email))


def _add(http: httpx.Client, url: str, **fields: Any) -> dict[str, Any]:
    response = http.post("/api/pacs/servers", json={"name": "Orthanc", "url": url, **fields})
    assert response.status_code == 201, response.text
    server: dict[str, Any] = response.json()
    return server


def _series(http: httpx.Client, server_id: str, **query: str) -> httpx.Response:
    return http.get(f"/api/pacs/servers/{server_id}/series", params=query)


def _database_text(service: LiveService) -> str:
    """Every value of every row of Iris's database, as text."""
    with sqlite3.connect(service.data_dir / "iris.db") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
        )


def _study_count(http: httpx.Client) -> int:
    return len(http.get("/api/studies").json()["items"])


def test_search_pull_and_process_keeps_no_patient_identifier(
    service: LiveService, orthanc: Orthanc
) -> None:
    with _user(service, "pull@example.org") as http, service.explained():
        server = _add(http, orthanc.dicomweb_url)
        assert server["has_secret"] is False and server["shared"] is False
        found = _series(http, server["id"], date_from="2023-12-01", date_to="2024-02-01",
                        modality="ct", description="soft").json()["items"]
        assert [hit["description"] for hit in found] == [DESCRIPTION]
        assert found[0]["patient_name"] == "Phantom^Iris"  # shown to the user who searched
        assert _series(http, server["id"], description="bone").json()["items"] == []
        assert _series(http, server["id"], date_from="2024-01-02").json()["items"] == []
        studies = http.get(f"/api/pacs/servers/{server['id']}/studies",
                           params={"modality": "CT"}).json()["items"]
        assert [s["study_uid"] for s in studies] == [found[0]["study_uid"]]

        body = {"series_uid": found[0]["series_uid"], "engine": "tissue", "quality": "fast"}
        pulled = http.post(f"/api/pacs/servers/{server['id']}/pull", json=body)
        assert pulled.status_code == 201, pulled.text
        study, job = pulled.json()["study"], pulled.json()["job"]
        assert study["source_format"] == "dicom-folder"
        assert study["shape"] == [48, 40, 24]
        finished = wait_for(http, job["id"], {"done", "failed"}, timeout_s=300)
        assert finished["state"] == "done", finished
        assert http.get(f"/api/studies/{study['id']}").json()["latest_job"]["state"] == "done"

        # Nothing the PACS said about the patient is kept: not in the rows, not in the files.
        text = _database_text(service)
        assert not [word for word in IDENTIFIERS if word in text]
        stored = (service.data_dir / "storage").rglob("*")
        for path in (p for p in stored if p.is_file() and p.suffix in (".zip", ".json", ".csv")):
            content = path.read_bytes()
            assert not [w for w in IDENTIFIERS if w.encode() in content], path
        # Sending the results back: tests/integration/test_pacs_roundtrip.py (not here, where
        # the other tests expect this Orthanc to hold the CT series only).


def test_a_pacs_that_is_down_gives_a_plain_message_and_no_study(service: LiveService) -> None:
    with _user(service, "down@example.org") as http:
        server = _add(http, f"http://127.0.0.1:{free_port()}/dicom-web")
        search = _series(http, server["id"])
        assert search.status_code == 502
        assert "Could not reach the PACS 'Orthanc'" in search.json()["detail"]
        pulled = http.post(f"/api/pacs/servers/{server['id']}/pull",
                           json={"series_uid": "1.2.3", "study_uid": "1.2.3.4"})
        assert pulled.status_code == 502 and "may be down" in pulled.json()["detail"]
        assert _study_count(http) == 0


def test_pacs_errors_are_named_and_nothing_is_kept(
    service: LiveService, orthanc: Orthanc, tmp_path: Path, small_phantom: Phantom
) -> None:
    with _user(service, "errors@example.org") as http:
        wrong_root = _add(http, f"{orthanc.url}/not-dicomweb")
        search = _series(http, wrong_root["id"])
        assert search.status_code == 404 and "HTTP 404" in search.json()["detail"]
        server = _add(http, orthanc.dicomweb_url)
        missing = http.post(f"/api/pacs/servers/{server['id']}/pull",
                            json={"series_uid": "1.2.826.0.1.999"})
        assert missing.status_code == 404 and "no such series" in missing.json()["detail"]
        [hit] = _series(http, server["id"]).json()["items"]
        own_labels = http.post(f"/api/pacs/servers/{server['id']}/pull",
                               json={"series_uid": hit["series_uid"], "engine": "import"})
        assert own_labels.status_code == 422 and "import" in own_labels.json()["detail"]
        assert _study_count(http) == 0
        assert not list((service.data_dir / "uploads").glob("pacs-*"))


def test_a_pacs_that_fails_inside_answers_500_and_nothing_is_kept(
    service: LiveService, tmp_path: Path, small_phantom: Phantom
) -> None:
    """Orthanc whose stored files vanished (a broken disk) answers the retrieval with HTTP 500."""
    paths = write_dicom_series(small_phantom.ct, tmp_path / "series")
    with orthanc_server(tmp_path / "pacs") as broken, _user(service, "e500@example.org") as http:
        store_instances(broken, paths)
        server = _add(http, broken.dicomweb_url)
        [hit] = _series(http, server["id"]).json()["items"]
        for blob in (tmp_path / "pacs" / "storage").rglob("*"):
            if blob.is_file() and not blob.name.startswith("index"):
                blob.unlink()
        pulled = http.post(f"/api/pacs/servers/{server['id']}/pull",
                           json={"series_uid": hit["series_uid"], "study_uid": hit["study_uid"]})
        assert pulled.status_code == 502, pulled.text
        assert "answered the retrieval with an error (HTTP 500)" in pulled.json()["detail"]
        assert _study_count(http) == 0


def test_basic_authentication_and_a_wrong_password(
    service: LiveService, tmp_path: Path, small_phantom: Phantom
) -> None:
    paths = write_dicom_series(small_phantom.ct, tmp_path / "series")
    with (
        orthanc_server(tmp_path / "pacs", username="iris", password="pacs-pass-1") as guarded,
        _user(service, "basic@example.org") as http,
    ):
        store_instances(guarded, paths)
        good = _add(http, guarded.dicomweb_url, auth="basic", username="iris", secret="pacs-pass-1")
        assert good["has_secret"] is True and "secret" not in good
        assert len(_series(http, good["id"]).json()["items"]) == 1
        listed = http.get("/api/pacs/servers").text
        assert "pacs-pass-1" not in listed
        bad = _add(http, guarded.dicomweb_url, auth="basic", username="iris", secret="wrong")
        refused = _series(http, bad["id"])
        assert refused.status_code == 502
        assert "refused Iris's credentials" in refused.json()["detail"]
        # Someone else's server is not found; a server without its credentials is refused.
        with _user(service, "other@example.org") as other:
            assert _series(other, good["id"]).status_code == 404
            assert other.delete(f"/api/pacs/servers/{good['id']}").status_code == 404
        missing = http.post("/api/pacs/servers", json={"name": "x", "url": guarded.dicomweb_url,
                                                       "auth": "basic", "username": "iris"})
        assert missing.status_code == 422
        for hostile in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data",
                        "http://[fe80::1]/dicom-web", "http://iris:pw@127.0.0.1/dicom-web",
                        "http://no-such-host.invalid/dicom-web"):
            refused = http.post("/api/pacs/servers", json={"name": "x", "url": hostile})
            assert refused.status_code == 422, (hostile, refused.text)
        assert http.delete(f"/api/pacs/servers/{bad['id']}").status_code == 204
        assert [s["id"] for s in http.get("/api/pacs/servers").json()["items"]] == [good["id"]]


def test_site_servers_and_the_size_limit(
    orthanc: Orthanc, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A server the administrator configured is everyone's and cannot be removed by users, who
    may add none of their own when IRIS_PACS_USER_SERVERS is off; a series over
    IRIS_MAX_UPLOAD_BYTES is refused while it streams in, and nothing is kept."""
    site = json.dumps([{"name": "Hospital PACS", "url": orthanc.dicomweb_url, "auth": "bearer",
                        "secret": "site-token"}])
    live = LiveService(tmp_path_factory.mktemp("limited") / "data", workers=0,
                       IRIS_PACS_SERVERS=site, IRIS_MAX_UPLOAD_BYTES="50000",
                       IRIS_PACS_USER_SERVERS="false")
    live.start()
    try:
        with _user(live, "site@example.org") as http, live.explained():
            [server] = http.get("/api/pacs/servers").json()["items"]
            assert server["shared"] is True and server["has_secret"] is True
            assert server["name"] == "Hospital PACS" and "site-token" not in str(server)
            assert http.delete(f"/api/pacs/servers/{server['id']}").status_code == 403
            own = http.post("/api/pacs/servers", json={"name": "Mine", "url": orthanc.dicomweb_url})
            assert own.status_code == 403 and "administrator" in own.json()["detail"]
            [hit] = _series(http, server["id"]).json()["items"]  # Orthanc ignores the token
            pulled = http.post(f"/api/pacs/servers/{server['id']}/pull",
                               json={"series_uid": hit["series_uid"]})
            assert pulled.status_code == 413, pulled.text
            assert "IRIS_MAX_UPLOAD_BYTES" in pulled.json()["detail"]
            assert _study_count(http) == 0
            assert not list((live.data_dir / "uploads").glob("pacs-*/**/*.dcm"))
    finally:
        live.stop()
