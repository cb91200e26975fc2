"""Studies: uploads (NIfTI, DICOM files, DICOM zip, chunked), refusals that leave nothing behind,
list/search, rename, delete."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.support.service import (
    api_client,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.settings import Settings


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "storage"
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts]


def _leftovers(settings: Settings) -> list[Path]:
    """Everything an upload could leave: stored files and staging files."""
    staged = [p for p in (settings.data_dir / "uploads").rglob("*")]
    return _stored_files(settings) + staged


def _study_rows(settings: Settings) -> int:
    from sqlalchemy import func, select

    from iris3d.store.models import Study

    db = open_db(settings)
    with db.reader() as session:
        count = int(session.scalar(select(func.count()).select_from(Study)) or 0)
    db.dispose()
    return count


def _dicom_files(phantom: Phantom, folder: Path, **kwargs: object) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return write_dicom_series(phantom.ct, folder, **kwargs)  # type: ignore[arg-type]


def test_upload_a_nifti_study(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(
            client, headers, phantom_nifti(small_phantom, tmp_path), "Chest CT.nii.gz"
        )
        assert study["name"].startswith("CT · 48×40×24 · uploaded 20")  # not the file's name
        assert study["source_format"] == "nifti"
        assert study["shape"] == [48, 40, 24]
        assert study["spacing_mm"] == [8.0, 8.0, 8.0]
        assert study["latest_job"] is None
        listed = client.get("/api/studies", headers=headers).json()["items"]
        assert [s["id"] for s in listed] == [study["id"]]
        assert (
            client.get(f"/api/studies/{study['id']}", headers=headers).json()["id"] == study["id"]
        )
    assert [p.name for p in _stored_files(settings)] == ["study.nii.gz"]


def test_rename_a_study_keeps_a_real_name(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path), "ct.nii.gz")
        route = f"/api/studies/{study['id']}"
        renamed = client.patch(route, json={"name": "  Liver follow-up  "}, headers=headers)
        assert renamed.status_code == 200 and renamed.json()["name"] == "Liver follow-up"
        for bad in ("   ", "", "x" * 201):
            assert client.patch(route, json={"name": bad}, headers=headers).status_code == 422
        assert client.get(route, headers=headers).json()["name"] == "Liver follow-up"


def test_upload_the_files_of_a_dicom_series(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    paths = _dicom_files(small_phantom, tmp_path / "dicom", series_description="Abdomen")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        files = [("files", (p.name, p.read_bytes(), "application/dicom")) for p in paths]
        response = client.post("/api/studies", headers=headers, files=files)
        assert response.status_code == 201, response.text
        study = response.json()
    assert study["source_format"] == "dicom-folder"
    assert study["shape"] == [48, 40, 24]
    assert len(study["series"]) == 1 and study["series"][0]["description"] == "Abdomen"
    assert "Phantom" not in str(study)  # the patient's name never reaches the API
    stored = _stored_files(settings)
    assert [p.name for p in stored] == ["study.zip"]
    assert len(zipfile.ZipFile(stored[0]).namelist()) == len(paths)


def test_upload_a_dicom_zip(tmp_path: Path, small_phantom: Phantom) -> None:
    paths = _dicom_files(small_phantom, tmp_path / "dicom")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for p in paths:
            zf.write(p, f"series/{p.name}")
    with api_client(service_settings(tmp_path / "data")) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(client, headers, buffer.getvalue(), "scan.zip")
    assert study["source_format"] == "zip"
    assert study["shape"] == [48, 40, 24]


@pytest.mark.parametrize(
    ("filename", "content", "status", "words"),
    [
        ("broken.nii.gz", b"\x1f\x8b not really gzip" * 50, 422, "study.nii.gz"),
        ("notes.txt", b"hello, this is not a scan" * 40, 422, "not a file Iris reads"),
        ("broken.zip", b"PK\x03\x04 truncated", 422, "zip"),
    ],
)
def test_unreadable_uploads_get_a_clear_422_and_leave_nothing(
    tmp_path: Path, filename: str, content: bytes, status: int, words: str
) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        files = [("files", (filename, content, "application/octet-stream"))]
        response = client.post("/api/studies", headers=headers, files=files)
        assert response.status_code == status
        assert words in response.json()["detail"]
        assert str(settings.data_dir) not in response.json()["detail"]
    assert _leftovers(settings) == []
    assert _study_rows(settings) == 0


def test_non_ct_dicom_is_refused(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    paths = _dicom_files(small_phantom, tmp_path / "mr", modality="MR")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        files = [("files", (p.name, p.read_bytes(), "application/dicom")) for p in paths]
        response = client.post("/api/studies", headers=headers, files=files)
    assert response.status_code == 422
    assert "CT" in response.json()["detail"]
    assert _leftovers(settings) == []


def test_oversized_uploads_get_413_and_leave_nothing(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = service_settings(tmp_path / "data", max_upload_bytes=2000)
    content = phantom_nifti(small_phantom, tmp_path)
    assert len(content) > 2000
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        files = [("files", ("ct.nii.gz", content, "application/octet-stream"))]
        response = client.post("/api/studies", headers=headers, files=files)
        assert response.status_code == 413
        assert "larger than this server accepts" in response.json()["detail"]
        big = client.post("/api/uploads", headers=headers, json={"size": 5000, "filename": "x.zip"})
        assert big.status_code == 413
    assert _leftovers(settings) == []


def test_upload_file_names_never_become_paths(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(
            client, headers, phantom_nifti(small_phantom, tmp_path), "../../../evil/../x.nii.gz"
        )
    assert "x" not in study["name"] and "evil" not in study["name"]
    assert study["name"].startswith("CT · 48×40×24 · uploaded ")  # neutral, never the file name
    assert not (tmp_path / "evil").exists() and not (tmp_path / "x.nii.gz").exists()
    assert [p.name for p in _stored_files(settings)] == ["study.nii.gz"]


def _chunked(client: TestClient, headers: dict[str, str], content: bytes, name: str) -> str:
    created = client.post(
        "/api/uploads", headers=headers, json={"size": len(content), "filename": name}
    )
    assert created.status_code == 201
    upload = created.json()
    half = len(content) // 2
    first = client.put(
        f"/api/uploads/{upload['id']}",
        params={"offset": 0},
        content=content[:half],
        headers=headers,
    )
    assert first.json()["received"] == half
    # A client that lost track and resends from the start is told where to resume.
    wrong = client.put(
        f"/api/uploads/{upload['id']}",
        params={"offset": 0},
        content=content[:half],
        headers=headers,
    )
    assert wrong.status_code == 409
    resumed = client.get(f"/api/uploads/{upload['id']}", headers=headers).json()["received"]
    rest = client.put(
        f"/api/uploads/{upload['id']}",
        params={"offset": resumed},
        content=content[resumed:],
        headers=headers,
    )
    assert rest.json()["received"] == len(content)
    return str(upload["id"])


def test_chunked_upload_resumes_and_completes(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    content = phantom_nifti(small_phantom, tmp_path)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        upload_id = _chunked(client, headers, content, "big.nii.gz")
        done = client.post(
            f"/api/uploads/{upload_id}/complete", headers=headers, json={"name": "Big one"}
        )
        assert done.status_code == 201, done.text
        assert done.json()["name"] == "Big one" and done.json()["shape"] == [48, 40, 24]
        assert client.get(f"/api/uploads/{upload_id}", headers=headers).status_code == 404
    assert [p.name for p in _stored_files(settings)] == ["study.nii.gz"]
    assert list((settings.data_dir / "uploads").iterdir()) == []


def test_chunked_upload_refuses_early_completion_and_extra_bytes(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data", upload_chunk_bytes=10)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        upload = client.post("/api/uploads", headers=headers, json={"size": 25}).json()
        early = client.post(f"/api/uploads/{upload['id']}/complete", headers=headers, json={})
        assert early.status_code == 409
        too_big = client.put(
            f"/api/uploads/{upload['id']}", params={"offset": 0}, content=b"x" * 11, headers=headers
        )
        assert too_big.status_code == 413
        assert client.get(f"/api/uploads/{upload['id']}", headers=headers).json()["received"] == 0
        assert client.delete(f"/api/uploads/{upload['id']}", headers=headers).status_code == 204
    assert list((settings.data_dir / "uploads").iterdir()) == []


def test_rename_label_search_and_delete(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    content = phantom_nifti(small_phantom, tmp_path)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        first = upload_study(client, headers, content, "liver.nii.gz")
        second = upload_study(client, headers, content, "lungs.nii.gz")
        patched = client.patch(
            f"/api/studies/{first['id']}",
            headers=headers,
            json={"name": "Liver follow-up", "labels": ["teaching"]},
        )
        assert patched.json()["name"] == "Liver follow-up"
        assert patched.json()["labels"] == ["teaching"]
        found = client.get("/api/studies", headers=headers, params={"search": "FOLLOW"}).json()
        assert [s["id"] for s in found["items"]] == [first["id"]]
        assert client.delete(f"/api/studies/{first['id']}", headers=headers).status_code == 204
        assert client.get(f"/api/studies/{first['id']}", headers=headers).status_code == 404
        remaining = client.get("/api/studies", headers=headers).json()["items"]
        assert [s["id"] for s in remaining] == [second["id"]]
    assert len(_stored_files(settings)) == 1
