"""Sending a finished job's DICOM results to a real Orthanc by STOW-RS.

The DICOM-SEG and SR themselves come from another part of Iris; here a small pydicom file
stands in for the DICOM-SEG, so that the sender is tested on its own (the whole round trip:
test_pacs_roundtrip.py)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pydicom
import pytest
from fastapi.testclient import TestClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SegmentationStorage, generate_uid
from sqlalchemy import update
from tests.support.orthanc import orthanc_server, store_instances
from tests.support.service import (
    api_client,
    create_job,
    finish_next_job,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.api.pacs_autosend import send_due
from iris3d.pacs import DicomWebClient, PacsRefusedError
from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.settings import PacsServerConfig
from iris3d.store import pacs_sends
from iris3d.store.models import PacsSend, utcnow


def _stand_in(sop_uid: str, source: Dataset | None) -> bytes:
    """A DICOM-SEG's header, made from ``source`` (a CT image) when given."""
    ds = Dataset()
    ds.SOPClassUID = SegmentationStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = source.StudyInstanceUID if source else generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "SEG"
    ds.PatientID = ""
    if source is not None:
        item = Dataset()
        item.SeriesInstanceUID = source.SeriesInstanceUID
        ds.ReferencedSeriesSequence = [item]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SegmentationStorage
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_a_jobs_dicom_results_arrive_in_orthanc(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "iris")
    sop_uid = generate_uid()
    ct = write_dicom_series(small_phantom.ct, tmp_path / "ct")
    with orthanc_server(tmp_path / "pacs") as orthanc, api_client(settings) as client:
        store_instances(orthanc, ct)
        headers = sign_up(client, "send@example.org")
        server = client.post("/api/pacs/servers", headers=headers,
                             json={"name": "Orthanc", "url": orthanc.dicomweb_url}).json()
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        plain = create_job(client, headers, study["id"])
        finish_next_job(settings, {"glb": b"glTF"})
        refused = client.post(f"/api/pacs/servers/{server['id']}/send", headers=headers,
                              json={"job_id": plain["id"]})
        assert refused.status_code == 409, refused.text

        unreferenced = create_job(client, headers, study["id"])
        finish_next_job(settings, {"glb": b"glTF", "dicom_seg": _stand_in(sop_uid, None)})
        refused = client.post(f"/api/pacs/servers/{server['id']}/send", headers=headers,
                              json={"job_id": unreferenced["id"]})
        assert refused.status_code == 409 and "does not reference" in refused.json()["detail"]

        job = create_job(client, headers, study["id"])
        source = pydicom.dcmread(ct[0], stop_before_pixels=True)
        finish_next_job(settings, {"glb": b"glTF", "dicom_seg": _stand_in(sop_uid, source)})
        sent = client.post(f"/api/pacs/servers/{server['id']}/send", headers=headers,
                           json={"job_id": job["id"]})
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"artifacts": ["dicom_seg"], "instances": 1}
        with orthanc.client() as http:
            found = http.post("/tools/find", json={"Level": "Instance", "Expand": True,
                                                   "Query": {"SOPInstanceUID": sop_uid}})
            [instance] = found.json()
            tags = http.get(f"/instances/{instance['ID']}/simplified-tags").json()
            assert tags["PatientID"] == source.PatientID  # filed with the CT's patient
            assert len(http.get("/patients").json()) == 1
        assert client.post(f"/api/pacs/servers/{server['id']}/send", headers=headers,
                           json={"job_id": "nope"}).status_code == 404


def test_files_the_pacs_cannot_store_are_a_clear_refusal(tmp_path: Path) -> None:
    not_dicom = tmp_path / "notes.dcm"
    not_dicom.write_bytes(b"not a DICOM file at all" * 10)
    with orthanc_server(tmp_path / "pacs") as orthanc:
        client = DicomWebClient(PacsServerConfig(name="Orthanc", url=orthanc.dicomweb_url))
        with client, pytest.raises(PacsRefusedError, match="Orthanc"):
            client.store([not_dicom])


def test_automatic_sends_go_once_and_say_why_when_they_cannot(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    """The rows a pull with ``send_results`` makes, sent by the API's sender (called here
    directly: its loop waits an hour in this test)."""
    settings = service_settings(tmp_path / "iris", pacs_send_interval_s=3600)
    ct = write_dicom_series(small_phantom.ct, tmp_path / "ct")
    source = pydicom.dcmread(ct[0], stop_before_pixels=True)
    elsewhere = pydicom.dcmread(ct[0], stop_before_pixels=True)
    elsewhere.SeriesInstanceUID = generate_uid()  # a series the PACS does not have
    with orthanc_server(tmp_path / "pacs") as orthanc, api_client(settings) as client:
        store_instances(orthanc, ct)
        headers = sign_up(client, "auto@example.org")
        servers = [client.post("/api/pacs/servers", headers=headers, json={
            "name": f"Orthanc {n}", "url": orthanc.dicomweb_url}).json()["id"] for n in (1, 2)]
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        cases = {
            "no results": ({"glb": b"glTF"}, servers[0]),
            "server removed": ({"dicom_seg": _stand_in(generate_uid(), source)}, servers[1]),
            "source gone": ({"dicom_seg": _stand_in(generate_uid(), elsewhere)}, servers[0]),
            "sent": ({"dicom_seg": _stand_in(generate_uid(), source)}, servers[0]),
        }
        services = client.app.state.services  # type: ignore[attr-defined]
        jobs = {}
        for case, (files, server_id) in cases.items():
            jobs[case] = create_job(client, headers, study["id"])["id"]
            with services.db.session() as session:
                pacs_sends.add_send(session, job_id=jobs[case], owner_id=_owner(client, headers),
                                    server_id=server_id)
            assert _send_state(client, headers, jobs[case])["state"] == "pending"
            finish_next_job(settings, files)
        assert client.delete(f"/api/pacs/servers/{servers[1]}", headers=headers).status_code == 204

        assert send_due(services) == 4
        assert send_due(services) == 0  # each job's results go once
        states = {case: _send_state(client, headers, job) for case, job in jobs.items()}
        assert states["sent"] == {**states["sent"], "state": "sent",
                                  "detail": "The PACS stored 1 instance."}
        assert states["no results"]["state"] == "skipped"
        assert "no DICOM results" in states["no results"]["detail"]
        assert states["server removed"]["state"] == "failed"
        assert "removed" in states["server removed"]["detail"]
        assert states["source gone"]["state"] == "failed"
        assert "no longer has the series" in states["source gone"]["detail"]
        with orthanc.client() as http:
            assert len(http.get("/instances").json()) == len(ct) + 1

        # A send whose API process stopped mid-way is taken up again once it is stale.
        abandoned = create_job(client, headers, study["id"])["id"]
        with services.db.session() as session:
            pacs_sends.add_send(session, job_id=abandoned, owner_id=_owner(client, headers),
                                server_id=servers[0])
            session.execute(update(PacsSend).where(PacsSend.job_id == abandoned)
                            .values(state="sending"))
        finish_next_job(settings, {"dicom_seg": _stand_in(generate_uid(), source)})
        assert send_due(services) == 0
        with services.db.session() as session:
            session.execute(update(PacsSend).where(PacsSend.job_id == abandoned)
                            .values(updated_at=utcnow() - timedelta(hours=1)))
        assert send_due(services) == 1
        assert _send_state(client, headers, abandoned)["state"] == "sent"


def _owner(client: TestClient, headers: dict[str, str]) -> str:
    owner: str = client.get("/api/auth/me", headers=headers).json()["id"]
    return owner


def _send_state(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/pacs/sends/{job_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state
