"""DICOM out through the service: a DICOM upload, processed by a real worker (tissue engine),
offers its SEG and SR as downloads; a NIfTI upload does not."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pydicom
from tests.support.service import (
    api_client,
    create_job,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.jobs.worker import run_worker
from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series


def test_a_dicom_upload_offers_its_seg_and_sr(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    paths = write_dicom_series(small_phantom.ct, tmp_path / "dicom", seed=7)
    source = pydicom.dcmread(paths[0], stop_before_pixels=True)
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        files = [("files", (p.name, p.read_bytes(), "application/dicom")) for p in paths]
        study = client.post("/api/studies", headers=headers, files=files).json()
        job_id = create_job(client, headers, study["id"])["id"]
        assert run_worker(settings, threading.Event(), max_jobs=1) == 1
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        assert job["state"] == "done", job["error"]
        artifacts = {a["name"]: a for a in job["artifacts"]}
        assert artifacts["dicom_seg"]["filename"] == "segmentation.dcm"
        assert artifacts["dicom_sr"]["filename"] == "measurements.dcm"
        assert {artifacts[n]["media_type"] for n in ("dicom_seg", "dicom_sr")} == {
            "application/dicom"}
        answer = client.get(f"/api/jobs/{job_id}/artifacts/dicom_seg", headers=headers)
        assert answer.status_code == 200
    seg = pydicom.dcmread(io.BytesIO(answer.content), stop_before_pixels=True)
    # Kept through the upload's de-identification: the UIDs a PACS files the SEG by.
    assert seg.StudyInstanceUID == source.StudyInstanceUID
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == source.SeriesInstanceUID
    assert {s.SegmentLabel for s in seg.SegmentSequence} >= {"lung_left", "lung_right", "body"}
    assert seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    assert "Phantom" not in str(seg.PatientName) and seg.PatientID == ""


def test_a_nifti_upload_offers_no_dicom(tmp_path: Path, small_phantom: Phantom) -> None:
    settings = service_settings(tmp_path / "data")
    with api_client(settings) as client:
        headers = sign_up(client, "a@example.org")
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp_path))
        job_id = create_job(client, headers, study["id"])["id"]
        assert run_worker(settings, threading.Event(), max_jobs=1) == 1
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert job["state"] == "done", job["error"]
    names = {a["name"] for a in job["artifacts"]}
    assert "glb" in names and not names & {"dicom_seg", "dicom_sr"}
