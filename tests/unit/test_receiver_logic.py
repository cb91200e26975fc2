"""The receiver's logic without a PACS: who owns what arrives by AE title, the inbox's
duplicates, caps and claims, and a destination that is down (the receipt says so, the results
stay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.live_server import free_port
from tests.support.service import api_client, finish_next_job, service_settings, sign_up
from tests.support.stow import stow_body
from tests.support.waiting import wait_for

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.receiver.inbox import BadInstanceError, Inbox, InboxFullError, InstanceIds, Stored
from iris3d.receiver.scp import AeRoutes
from iris3d.settings import Settings


def _routes(**routes: str) -> AeRoutes:
    mapping = {key.replace("_", ":", 1): email for key, email in routes.items()}
    return AeRoutes.from_settings(Settings(dicom_ae_title="IRIS", dicom_ae_routes=mapping))


def test_the_called_ae_title_decides_first_then_the_calling_one() -> None:
    routes = _routes(called_IRIS_ALICE="alice@x.org", calling_CT_ROUTER="bob@x.org")
    assert routes.owner_email("IRIS_ALICE", "CT_ROUTER") == "alice@x.org"
    assert routes.owner_email("IRIS_ALICE ", "ANYONE") == "alice@x.org"  # AE titles are padded
    assert routes.owner_email("IRIS", "CT_ROUTER") == "bob@x.org"
    assert routes.owner_email("IRIS", "ANYONE") is None
    # A calling route applies only to the receiver's own AE title, not to any title called.
    assert routes.owner_email("OTHER", "CT_ROUTER") is None


def test_routes_must_name_called_or_calling() -> None:
    with pytest.raises(ValueError, match="'called:AE' or 'calling:AE'"):
        Settings(dicom_ae_routes={"IRIS_ALICE": "alice@x.org"})
    with pytest.raises(ValueError, match="1 to 16 characters"):
        Settings(dicom_ae_routes={"called:" + "A" * 17: "alice@x.org"})


def _ids(sop: str, study: str = "1.2.3") -> InstanceIds:
    return InstanceIds(study, f"{study}.1", sop)


def _received(inbox: Inbox, size: int = 100) -> Path:
    path = inbox.incoming_file()
    path.write_bytes(b"x" * size)
    return path


def test_the_inbox_keeps_an_instance_once_and_claims_a_study_once(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox", max_study_bytes=10_000, max_owner_bytes=10_000)
    assert inbox.accept("u1", _ids("1.2.3.1.1"), _received(inbox)) is Stored.NEW
    assert inbox.accept("u1", _ids("1.2.3.1.1"), _received(inbox)) is Stored.DUPLICATE
    assert inbox.accept("u1", _ids("1.2.3.1.2"), _received(inbox)) is Stored.NEW
    assert list(inbox.claim_quiet(quiet_s=60)) == []  # not quiet yet
    other = Inbox(tmp_path / "inbox", max_study_bytes=10_000, max_owner_bytes=10_000)
    claims = [*inbox.claim_quiet(quiet_s=0.0), *other.claim_quiet(quiet_s=0.0)]
    assert [(c.owner_id, c.instances, c.size) for c in claims] == [("u1", 2, 200)]
    assert list((tmp_path / "inbox" / ".incoming").iterdir()) == []


def test_the_inbox_refuses_bad_uids_and_what_passes_the_caps(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox", max_study_bytes=250, max_owner_bytes=350)
    for bad in ("", "../../etc", "1.2.x", "1." * 40):
        with pytest.raises(BadInstanceError):
            inbox.accept("u1", _ids(bad), _received(inbox))
    inbox.accept("u1", _ids("1.1"), _received(inbox))
    inbox.accept("u1", _ids("1.2"), _received(inbox))
    with pytest.raises(InboxFullError, match="IRIS_MAX_UPLOAD_BYTES"):
        inbox.accept("u1", _ids("1.3"), _received(inbox))
    inbox.accept("u1", _ids("2.1", study="9.9"), _received(inbox))
    with pytest.raises(InboxFullError, match="IRIS_QUOTA_UPLOAD_BYTES"):
        inbox.accept("u1", _ids("2.2", study="9.9"), _received(inbox))
    assert list((tmp_path / "inbox" / ".incoming").iterdir()) == []


def _wait_receipt(client: Any, headers: dict[str, str], done: set[str]) -> dict[str, Any]:
    def receipt() -> dict[str, Any] | None:
        items = client.get("/api/dicom/receipts", headers=headers).json()["items"]
        return items[0] if items and items[0]["state"] in done else None

    found: dict[str, Any] = wait_for(receipt, what=f"a receipt in {sorted(done)}", timeout=60)
    return found


def test_a_destination_that_is_down_fails_the_receipt_and_keeps_the_results(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    settings = service_settings(tmp_path / "data", dicom_quiet_seconds=0.3, pacs_timeout_s=2.0)
    files = write_dicom_series(small_phantom.ct, tmp_path / "ct")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        down = f"http://127.0.0.1:{free_port()}/dicom-web"
        server = client.post("/api/pacs/servers", headers=headers,
                             json={"name": "Down", "url": down}).json()
        rule = {"quality": "fast", "engine": "tissue", "destination": server["id"]}
        assert client.put("/api/dicom/rule", json=rule, headers=headers).status_code == 200
        missing = {**rule, "destination": "no-such-server"}
        refused = client.put("/api/dicom/rule", json=missing, headers=headers)
        assert refused.status_code == 422 and "No such PACS server" in refused.text
        made = client.post("/api/dicom/tokens", json={"name": "PACS"}, headers=headers).json()
        body, content_type = stow_body(files)
        sent = client.post("/dicom-web/studies", content=body, headers={
            "Content-Type": content_type, "Authorization": f"Bearer {made['secret']}"})
        assert sent.status_code == 200, sent.text
        queued = _wait_receipt(client, headers, {"queued"})
        finish_next_job(settings, {"dicom_seg": files[0].read_bytes()})
        failed = _wait_receipt(client, headers, {"failed", "delivered"})
        assert failed["state"] == "failed", failed
        assert failed["reason"].startswith("the results could not be sent: "), failed
        assert "'Down'" in failed["reason"] and "down" in failed["reason"], failed
        job = client.get(f"/api/jobs/{queued['job_id']}", headers=headers).json()
        assert job["state"] == "done"
        link = client.get(f"/api/jobs/{job['id']}/artifacts/dicom_seg", headers=headers)
        assert link.status_code == 200 and link.content == files[0].read_bytes()
        # Sending again is a click away; it fails the same way while the PACS is down.
        again = client.post(f"/api/dicom/receipts/{failed['id']}/resend", headers=headers)
        assert again.status_code == 200 and again.json()["state"] == "queued", again.text
        assert _wait_receipt(client, headers, {"failed"})["reason"] == failed["reason"]
        refused = client.post(f"/api/dicom/receipts/{failed['id']}/resend", headers={})
        assert refused.status_code == 401


def test_the_receiver_needs_a_port(tmp_path: Path) -> None:
    import threading

    from iris3d.errors import IrisError
    from iris3d.receiver.service import run_receiver

    with pytest.raises(IrisError, match="IRIS_DICOM_PORT"):
        run_receiver(Settings(data_dir=tmp_path), threading.Event())
