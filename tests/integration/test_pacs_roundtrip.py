"""The round trip through a real Orthanc: a CT series with a known patient goes in, Iris pulls it
(de-identified), processes it and sends its DICOM-SEG and SR back, on a click or by itself;
Orthanc files them in the CT's own study, with its patient, and they decode to Iris's own
labels and statistics. Iris keeps no patient identifier on the way."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import highdicom as hd
import httpx
import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from tests.support.live_server import LiveService, wait_for
from tests.support.orthanc import Orthanc, orthanc_server, store_instances

from iris3d.imageio import read_label_map
from iris3d.ingest import load_study
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.segment import Quality
from iris3d.segment.imported import ImportEngine
from iris3d.volume import LabelMap

LIMITS = ReadLimits.defaults()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    with orthanc_server(tmp_path_factory.mktemp("orthanc") / "pacs") as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("iris") / "data", workers=1,
                       IRIS_PACS_SEND_INTERVAL_S="0.2")
    live.start()
    yield live
    live.stop()


def _ct_series(
    folder: Path, phantom: Phantom, orthanc: Orthanc, patient: dict[str, str]
) -> list[pydicom.Dataset]:
    """A CT series of ``patient`` in Orthanc; its headers (without pixels)."""
    paths = write_dicom_series(phantom.ct, folder, patient_name=patient["PatientName"])
    for path in paths:
        ds = pydicom.dcmread(path)
        for keyword, value in patient.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
    store_instances(orthanc, paths)
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]


def _pull(http: httpx.Client, orthanc: Orthanc, series_uid: str, **extra: Any) -> dict[str, Any]:
    added = http.post("/api/pacs/servers", json={"name": "Orthanc", "url": orthanc.dicomweb_url})
    assert added.status_code == 201, added.text
    server: dict[str, Any] = added.json()
    body = {"series_uid": series_uid, "engine": "tissue", "quality": "fast", **extra}
    pulled = http.post(f"/api/pacs/servers/{server['id']}/pull", json=body)
    assert pulled.status_code == 201, pulled.text
    job = wait_for(http, pulled.json()["job"]["id"], {"done", "failed"}, timeout_s=300)
    assert job["state"] == "done", job
    return {"server": server, "job": job}


def _study_series(orthanc: Orthanc, study_uid: str) -> dict[str, list[pydicom.Dataset]]:
    """Orthanc's series of the study, by modality, each as its instances' files."""
    with orthanc.client() as pacs:
        studies = pacs.post("/tools/find", json={
            "Level": "Study", "Query": {"StudyInstanceUID": study_uid}}).json()
        assert len(studies) == 1, "the results were filed as another patient's study"
        found: dict[str, list[pydicom.Dataset]] = {}
        for series_id in pacs.get(f"/studies/{studies[0]}").json()["Series"]:
            series = pacs.get(f"/series/{series_id}").json()
            modality = series["MainDicomTags"]["Modality"]
            found[modality] = [
                pydicom.dcmread(io.BytesIO(pacs.get(f"/instances/{i}/file").content))
                for i in series["Instances"]
            ]
    return found


def _wait_for_seg(orthanc: Orthanc, study_uid: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    with orthanc.client() as pacs:
        while time.monotonic() < deadline:
            found = pacs.post("/tools/find", json={
                "Level": "Series", "Query": {"StudyInstanceUID": study_uid}, "Expand": True})
            modalities = {series["MainDicomTags"]["Modality"] for series in found.json()}
            if {"SEG", "SR"} <= modalities:  # one STOW-RS request, stored one by one
                return
            time.sleep(0.1)
    raise AssertionError(f"the SEG and SR did not reach Orthanc's study in {timeout_s} s")


def _renumbered(imported: LabelMap, written: LabelMap) -> npt.NDArray[np.integer[Any]]:
    """``imported``'s array with ``written``'s ids (the import numbers names its own way)."""
    ids = {structure.name: label for label, structure in written.table.items()}
    lookup = np.zeros(int(imported.array.max()) + 1, dtype=written.array.dtype)
    for label in imported.census.present():
        lookup[label] = ids[imported.table[label].name]
    return lookup[imported.array]


def _download(http: httpx.Client, job_id: str, name: str, path: Path) -> Path:
    answer = http.get(f"/api/jobs/{job_id}/artifacts/{name}")
    assert answer.status_code == 200, answer.text
    path.write_bytes(answer.content)
    return path


def _iris_holds_none_of(service: LiveService, words: list[str]) -> None:
    with sqlite3.connect(service.data_dir / "iris.db") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = "\n".join(
            repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
        )
    assert not [word for word in words if word in rows]
    for path in (p for p in (service.data_dir / "storage").rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert not [w for w in words if w.encode() in content], path
    log = service.log.read_text(errors="replace")
    assert not [word for word in words if word in log]


ALICE = {"PatientName": "Roundtrip^Alice", "PatientID": "RT-4711", "AccessionNumber": "RTACC42",
         "IssuerOfPatientID": "IRIS-TEST-HOSPITAL"}
BOB = {"PatientName": "Automatic^Bob", "PatientID": "RT-0815", "AccessionNumber": "RTACC43"}


def test_the_results_go_back_into_the_cts_study_and_decode_to_irises_own(
    service: LiveService, orthanc: Orthanc, tmp_path: Path, small_phantom: Phantom
) -> None:
    ct = _ct_series(tmp_path / "ct", small_phantom, orthanc, ALICE)
    study_uid, series_uid = ct[0].StudyInstanceUID, ct[0].SeriesInstanceUID
    with service.client(service.sign_up("roundtrip@example.org")) as http, service.explained():
        pulled = _pull(http, orthanc, series_uid)
        job, server = pulled["job"], pulled["server"]
        assert {"dicom_seg", "dicom_sr"} <= {a["name"] for a in job["artifacts"]}
        sent = http.post(f"/api/pacs/servers/{server['id']}/send", json={"job_id": job["id"]})
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"artifacts": ["dicom_seg", "dicom_sr"], "instances": 2}

        found = _study_series(orthanc, study_uid)
        assert sorted(found) == ["CT", "SEG", "SR"]
        with orthanc.client() as pacs:
            assert len(pacs.get("/patients").json()) == 1
        (seg,), (sr,) = found["SEG"], found["SR"]
        for result in (seg, sr):
            assert result.PatientID == "RT-4711" and str(result.PatientName) == "Roundtrip^Alice"
            assert result.AccessionNumber == "RTACC42" and result.PatientBirthDate == "19700101"
            assert result.IssuerOfPatientID == "IRIS-TEST-HOSPITAL"
            assert result.StudyDate == "20240101" and result.StudyID == "1"
            assert "InstitutionName" not in result  # only the identifying study attributes

        # The SEG references the source series, and each frame its CT image.
        ct_sops = {ds.SOPInstanceUID for ds in ct}
        assert [s.SeriesInstanceUID for s in seg.ReferencedSeriesSequence] == [series_uid]
        for frame in seg.PerFrameFunctionalGroupsSequence:
            source = frame.DerivationImageSequence[0].SourceImageSequence[0]
            assert source.ReferencedSOPInstanceUID in ct_sops

        # Decoded (highdicom, then Iris's import onto the CT's grid): Iris's labels.nii.gz.
        seg_path = tmp_path / "from-orthanc.dcm"
        seg.save_as(seg_path)
        _download(http, job["id"], "labels_json", tmp_path / "labels.json")
        labels = read_label_map(_download(http, job["id"], "labels_nifti",
                                          tmp_path / "labels.nii.gz"), max_voxels=LIMITS.max_voxels)
        present = labels.census.present()
        assert len(hd.seg.segread(seg_path).SegmentSequence) == len(present) > 3
        engine = ImportEngine(seg_path, max_voxels=LIMITS.max_voxels)
        imported = engine.segment(load_study(tmp_path / "ct", limits=LIMITS), Quality.FAST)
        assert np.allclose(imported.labels.affine, labels.affine)
        assert np.array_equal(_renumbered(imported.labels, labels), labels.array)

        # The report's measurements are statistics.json's.
        statistics = json.loads(_download(http, job["id"], "statistics_json",
                                          tmp_path / "statistics.json").read_text())
        by_name = {s["name"]: s for s in statistics["structures"]}
        groups = hd.sr.Comprehensive3DSR.from_dataset(sr).content \
            .get_volumetric_roi_measurement_groups()
        assert len(groups) == len(by_name) == len(present)
        for group in groups:
            measured = {m.name.meaning: m.value for m in group.get_measurements()}
            name = str(group.tracking_identifier)
            assert measured["Volume"] == pytest.approx(by_name[name]["voxel_volume_ml"], rel=1e-3)
            assert measured["Attenuation Coefficient"] == pytest.approx(by_name[name]["hu_mean"],
                                                                        abs=0.01)

        _iris_holds_none_of(service, list(ALICE.values()))

        # Once the PACS has lost the CT, nothing is sent and the user is told why.
        with orthanc.client() as pacs:
            [ct_id] = [i for i in pacs.get("/series").json()
                       if pacs.get(f"/series/{i}").json()["MainDicomTags"]["Modality"] == "CT"]
            pacs.delete(f"/series/{ct_id}").raise_for_status()
            before = len(pacs.get("/instances").json())
        again = http.post(f"/api/pacs/servers/{server['id']}/send", json={"job_id": job["id"]})
        assert again.status_code == 409, again.text
        assert "no longer has the series" in again.json()["detail"]
        with orthanc.client() as pacs:
            assert len(pacs.get("/instances").json()) == before


def test_results_go_back_by_themselves_when_asked(
    service: LiveService, orthanc: Orthanc, tmp_path: Path, small_phantom: Phantom
) -> None:
    ct = _ct_series(tmp_path / "ct", small_phantom, orthanc, BOB)
    study_uid = ct[0].StudyInstanceUID
    with service.client(service.sign_up("auto@example.org")) as http, service.explained():
        pulled = _pull(http, orthanc, ct[0].SeriesInstanceUID, send_results=True)
        _wait_for_seg(orthanc, study_uid)
        found = _study_series(orthanc, study_uid)
        assert sorted(found) == ["CT", "SEG", "SR"]
        assert found["SEG"][0].PatientID == "RT-0815"
        assert found["SR"][0].AccessionNumber == "RTACC43"
        status = http.get(f"/api/pacs/sends/{pulled['job']['id']}")
        deadline = time.monotonic() + 30
        while status.json()["state"] == "sending" and time.monotonic() < deadline:
            time.sleep(0.05)
            status = http.get(f"/api/pacs/sends/{pulled['job']['id']}")
        assert status.json()["state"] == "sent", status.json()
        _iris_holds_none_of(service, list(BOB.values()))
    with service.client(service.sign_up("nosy@example.org")) as other:
        assert other.get(f"/api/pacs/sends/{pulled['job']['id']}").status_code == 404
