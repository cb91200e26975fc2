"""PACS routing by STOW-RS: receive tokens, refusals that keep nothing, duplicates, the quiet
time, non-CT studies and the receipt that says why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.support.service import api_client, service_settings, sign_up
from tests.support.stow import stow_body
from tests.support.waiting import wait_for

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.settings import Settings

QUIET_S = 0.5


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return service_settings(tmp_path / "data", **{"dicom_quiet_seconds": QUIET_S, **overrides})


def _series(phantom: Phantom, folder: Path, **kwargs: Any) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return write_dicom_series(phantom.ct, folder, **kwargs)


def _receive_token(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/api/dicom/tokens", json={"name": "Orthanc"}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["token"]["kind"] == "dicom"
    secret: str = response.json()["secret"]
    return secret


def _stow(client: TestClient, token: str | None, files: list[Path]) -> Any:
    body, content_type = stow_body(files)
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/dicom-web/studies", content=body, headers=headers)


def _inbox_files(settings: Settings) -> list[Path]:
    return [p for p in (settings.data_dir / "dicom-inbox").rglob("*") if p.is_file()
            and p.name != ".arrived"]


def _wait(condition: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    return wait_for(condition, what="a receipt", timeout=timeout_s, interval=0.05)


def _receipts(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/dicom/receipts", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_sent_study_is_processed_by_the_rule_once_quiet(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    # Long enough a quiet time that the two requests belong to one study on a busy machine.
    settings = _settings(tmp_path, dicom_quiet_seconds=3.0)
    files = _series(small_phantom, tmp_path / "ct")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        rule = {"quality": "fastest", "engine": "tissue", "destination": None}
        assert client.put("/api/dicom/rule", json=rule, headers=headers).status_code == 200
        token = _receive_token(client, headers)
        half = len(files) // 2
        first = _stow(client, token, files[:half])
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "application/dicom+json"
        assert len(first.json()["00081199"]["Value"]) == half
        # The rest, and the first half again: a PACS retrying; duplicates are kept once.
        assert _stow(client, token, files).status_code == 200
        receipts = _wait(lambda: _receipts(client, headers))
        assert len(receipts) == 1
        receipt = receipts[0]
        assert receipt["state"] == "queued", receipt
        assert receipt["instances"] == len(files)
        study = client.get(f"/api/studies/{receipt['study_id']}", headers=headers).json()
        assert study["shape"] == [48, 40, 24]
        assert study["source_format"] == "dicom-folder"
        job = client.get(f"/api/jobs/{receipt['job_id']}", headers=headers).json()
        assert (job["quality"], job["engine"], job["state"]) == ("fastest", "tissue", "queued")
        assert len(client.get("/api/studies", headers=headers).json()["items"]) == 1
    assert _inbox_files(settings) == []


def test_missing_wrong_or_other_tokens_are_refused_and_nothing_is_kept(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = _settings(tmp_path)
    files = _series(small_phantom, tmp_path / "ct")[:3]
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        session_token = headers["Authorization"].removeprefix("Bearer ")
        receive = _receive_token(client, headers)
        for token in (None, "not-a-token", session_token):
            response = _stow(client, token, files)
            assert response.status_code == 401, (token, response.text)
            assert "receive token" in response.json()["detail"]
        # The receive token opens nothing but STOW-RS.
        bearer = {"Authorization": f"Bearer {receive}"}
        assert client.get("/api/studies", headers=bearer).status_code == 401
        # Basic authentication with the token as password, for PACS that offer only that.
        body, content_type = stow_body(files)
        basic = client.post("/dicom-web/studies", content=body, auth=("orthanc", receive),
                            headers={"Content-Type": content_type})
        assert basic.status_code == 200, basic.text
        # A revoked token is refused from then on.
        token_id = client.get("/api/dicom/tokens", headers=headers).json()["items"][0]["id"]
        revoked = client.delete(f"/api/dicom/tokens/{token_id}", headers=headers)
        assert revoked.status_code == 204
        before = _inbox_files(settings)
        assert _stow(client, receive, _series(small_phantom, tmp_path / "other")).status_code == 401
        assert _inbox_files(settings) == before


def test_what_is_not_dicom_is_refused_by_part(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = _settings(tmp_path)
    files = _series(small_phantom, tmp_path / "ct")[:2]
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        token = _receive_token(client, headers)
        body, content_type = stow_body([files[0], b"\x00" * 300])
        response = client.post("/dicom-web/studies", content=body, headers={
            "Content-Type": content_type, "Authorization": f"Bearer {token}"})
        assert response.status_code == 202, response.text
        assert len(response.json()["00081198"]["Value"]) == 1
        assert "not a readable DICOM instance" in response.headers["warning"]
        junk, junk_type = stow_body([b"junk"])
        none = client.post("/dicom-web/studies", content=junk, headers={
            "Content-Type": junk_type, "Authorization": f"Bearer {token}"})
        assert none.status_code == 409, none.text
        assert "00081199" not in none.json()
        wrong_type = client.post("/dicom-web/studies", content=body, headers={
            "Content-Type": "multipart/form-data; boundary=x", "Authorization": f"Bearer {token}"})
        assert wrong_type.status_code == 400
        assert "multipart/related" in wrong_type.json()["detail"]


def test_a_study_with_no_ct_gets_a_receipt_saying_why(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = _settings(tmp_path)
    files = _series(small_phantom, tmp_path / "mr", modality="MR")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        token = _receive_token(client, headers)
        assert _stow(client, token, files).status_code == 200
        receipt = _wait(lambda: _receipts(client, headers))[0]
        assert receipt["state"] == "refused"
        assert "CT" in receipt["reason"], receipt
        assert receipt["study_id"] is None and receipt["job_id"] is None
        assert client.get("/api/studies", headers=headers).json()["items"] == []
    assert _inbox_files(settings) == []


def test_a_study_over_the_size_limit_is_refused(tmp_path: Path, small_phantom: Phantom) -> None:
    files = _series(small_phantom, tmp_path / "ct")
    size = files[0].stat().st_size
    settings = _settings(tmp_path, max_upload_bytes=size * 3 + size // 2)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        token = _receive_token(client, headers)
        first = _stow(client, token, files[:3])
        assert first.status_code == 200, first.text
        more = _stow(client, token, files[3:4])
        assert more.status_code == 409, more.text
        assert "IRIS_MAX_UPLOAD_BYTES" in more.headers["warning"]
        assert len(_inbox_files(settings)) == 3


def test_a_non_ct_series_beside_the_ct_is_left_out_with_a_warning(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = _settings(tmp_path)
    study_uid = "1.2.826.0.1.3680043.8.498.1"
    ct = _series(small_phantom, tmp_path / "ct", study_uid=study_uid)
    mr = _series(small_phantom, tmp_path / "mr", modality="MR", study_uid=study_uid)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        token = _receive_token(client, headers)
        assert _stow(client, token, [*ct, *mr[:5]]).status_code == 200
        receipt = _wait(lambda: _receipts(client, headers))[0]
        assert receipt["state"] == "queued", receipt
        assert receipt["instances"] == len(ct) + 5
        study = client.get(f"/api/studies/{receipt['study_id']}", headers=headers).json()
        warnings = " ".join(study["study_metadata"]["warnings"])
        assert "loaded the largest axial CT series" in warnings and "MR" in warnings, warnings


def test_too_many_parts_or_instances_are_refused(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = _settings(tmp_path, max_archive_members=3)
    files = _series(small_phantom, tmp_path / "ct")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        token = _receive_token(client, headers)
        many = _stow(client, token, files[:4])
        assert many.status_code == 413 and "IRIS_MAX_ARCHIVE_MEMBERS" in many.json()["detail"]
        assert _inbox_files(settings) == []
        assert _stow(client, token, files[:3]).status_code == 200
        more = _stow(client, token, files[3:4])
        assert more.status_code == 409 and "IRIS_MAX_ARCHIVE_MEMBERS" in more.headers["warning"]
        assert len(_inbox_files(settings)) == 3
