"""A real Orthanc routes studies to Iris: by DICOM C-STORE to the receiver `iris serve` starts
(owner by called or calling AE title) and by STOW-RS with a receive token; a study is processed
once quiet, duplicates count once, a non-CT study gets a receipt saying why, a wrong token or an
unknown AE title keeps nothing, and results go back to the owner's PACS server."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydicom import dcmread
from tests.support.live_server import LiveService, free_port
from tests.support.orthanc import Orthanc, orthanc_server, store_instances
from tests.support.service import finish_next_job
from tests.support.waiting import wait_for

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.settings import Settings

ALICE, BOB = "alice@example.org", "bob@example.org"
QUIET_S = 3.0  # long enough that two sends in a row belong to one study on a busy machine


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory, small_phantom: Phantom) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("series")
    return {
        name: write_dicom_series(small_phantom.ct, folder / name, modality=modality)
        for name, modality in (("ct", "CT"), ("ct2", "CT"), ("mr", "MR"), ("result", "CT"))
    }


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    with orthanc_server(tmp_path_factory.mktemp("orthanc") / "pacs") as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    routes = {"called:IRIS_ALICE": ALICE, "calling:ORTHANCTEST": BOB}
    live = LiveService(
        tmp_path_factory.mktemp("iris") / "data",
        workers=0,  # jobs stay queued: the test finishes them (the pipeline has its own tests)
        IRIS_DICOM_PORT=str(free_port()),
        IRIS_DICOM_HOST="127.0.0.1",
        IRIS_DICOM_AE_TITLE="IRIS",
        IRIS_DICOM_AE_ROUTES=json.dumps(routes),
        IRIS_DICOM_QUIET_SECONDS=str(QUIET_S),
    )
    live.start()
    for email in (ALICE, BOB):
        live.sign_up(email)
    yield live
    live.stop()


def _wait(condition: Callable[[], Any], what: str, timeout_s: float = 90.0) -> Any:
    return wait_for(condition, what=what, timeout=timeout_s, interval=0.1)


def _user(service: LiveService, email: str) -> httpx.Client:
    with service.client() as http:
        body = {"email": email, "password": "correct horse battery"}
        token = http.post("/api/auth/signin", json=body).json()["access_token"]
    return service.client(token)


def _receipts(http: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = http.get("/api/dicom/receipts").json()["items"]
    return items


def _new_receipt(http: httpx.Client, before: int) -> dict[str, Any]:
    receipts = _wait(lambda: (r := _receipts(http)) and len(r) > before and r, "a receipt")
    receipt: dict[str, Any] = receipts[0]
    return receipt


def _inbox(service: LiveService) -> list[Path]:
    root = service.data_dir / "dicom-inbox"
    return [p for p in root.rglob("*.dcm")] if root.exists() else []


def _study_in_orthanc(orthanc: Orthanc, paths: list[Path]) -> str:
    instance = store_instances(orthanc, paths)[0]
    with orthanc.client() as http:
        study: str = http.get(f"/instances/{instance}/study").json()["ID"]
    return study


def _modality(orthanc: Orthanc, name: str, aet: str, port: int) -> None:
    with orthanc.client() as http:
        body = {"AET": aet, "Host": "127.0.0.1", "Port": port}
        assert http.put(f"/modalities/{name}", json=body).status_code == 200


def _c_store(orthanc: Orthanc, modality: str, study: str) -> httpx.Response:
    with orthanc.client() as http:
        return http.post(f"/modalities/{modality}/store",
                         json={"Resources": [study], "Synchronous": True})


def _receiver_ready(orthanc: Orthanc, modality: str) -> None:
    def echo() -> bool:
        with orthanc.client() as http:
            return http.post(f"/modalities/{modality}/echo", json={}).status_code == 200

    _wait(echo, "the C-STORE receiver answering C-ECHO")


@pytest.fixture(scope="module")
def modalities(service: LiveService, orthanc: Orthanc) -> None:
    """Iris's receiver in Orthanc's modalities, under the titles the routes name and one more."""
    port = int(service.env["IRIS_DICOM_PORT"])
    _modality(orthanc, "iris-alice", "IRIS_ALICE", port)
    _modality(orthanc, "iris", "IRIS", port)
    _modality(orthanc, "iris-nobody", "NOBODY", port)
    _receiver_ready(orthanc, "iris-alice")


@pytest.mark.usefixtures("modalities")
def test_orthanc_c_store_to_iris(
    service: LiveService, orthanc: Orthanc, series: dict[str, list[Path]]
) -> None:
    ct, mr = _study_in_orthanc(orthanc, series["ct"]), _study_in_orthanc(orthanc, series["mr"])
    with _user(service, ALICE) as alice, _user(service, BOB) as bob, service.explained():
        # Sent twice in a row: a PACS retrying; the study counts each instance once.
        for _ in range(2):
            assert _c_store(orthanc, "iris-alice", ct).status_code == 200
        receipt = _new_receipt(alice, 0)
        assert receipt["state"] == "queued", receipt
        assert receipt["instances"] == len(series["ct"])
        study = alice.get(f"/api/studies/{receipt['study_id']}").json()
        assert study["shape"] == [48, 40, 24]
        assert alice.get(f"/api/jobs/{receipt['job_id']}").json()["state"] == "queued"
        # Cancelled: the next test finishes its own job by hand; this receipt says so.
        assert alice.post(f"/api/jobs/{receipt['job_id']}/cancel").status_code == 200
        cancelled = _wait(lambda: _receipts(alice)[0]["state"] == "failed", "the receipt failed")
        assert cancelled
        # Bob owns what Orthanc (calling AE ORTHANCTEST) sends to IRIS: an MR study.
        assert _c_store(orthanc, "iris", mr).status_code == 200
        refused = _new_receipt(bob, 0)
        assert refused["state"] == "refused" and "CT" in refused["reason"], refused
        assert bob.get("/api/studies").json()["items"] == []
        # An AE title nobody owns: Orthanc is told no, nothing is kept.
        assert _c_store(orthanc, "iris-nobody", ct).status_code != 200
        assert _inbox(service) == []
        assert len(_receipts(alice)) == 1 and len(_receipts(bob)) == 1


def _stow_server(orthanc: Orthanc, name: str, url: str, token: str) -> None:
    with orthanc.client() as http:
        body = {"Url": url, "HttpHeaders": {"Authorization": f"Bearer {token}"}}
        response = http.put(f"/dicom-web/servers/{name}", json=body)
        assert response.status_code == 200, response.text


def _stow(orthanc: Orthanc, server: str, study: str) -> httpx.Response:
    with orthanc.client() as http:
        return http.post(f"/dicom-web/servers/{server}/stow", json={"Resources": [study]})


def _sop_uid(path: Path) -> str:
    return str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def test_orthanc_stow_to_iris_and_results_back(
    service: LiveService, orthanc: Orthanc, series: dict[str, list[Path]]
) -> None:
    study = _study_in_orthanc(orthanc, series["ct2"])
    iris_dicomweb = f"{service.url}/dicom-web"
    with _user(service, ALICE) as alice, service.explained():
        before = len(_receipts(alice))
        _stow_server(orthanc, "iris-bad", iris_dicomweb, "not-a-token")
        assert _stow(orthanc, "iris-bad", study).status_code != 200
        assert _inbox(service) == []
        token = alice.post("/api/dicom/tokens", json={"name": "Orthanc"}).json()["secret"]
        pacs = alice.post("/api/pacs/servers", json={"name": "Orthanc",
                                                     "url": orthanc.dicomweb_url}).json()
        rule = {"quality": "fast", "engine": "tissue", "destination": pacs["id"]}
        assert alice.put("/api/dicom/rule", json=rule).status_code == 200
        _stow_server(orthanc, "iris", iris_dicomweb, token)
        assert _stow(orthanc, "iris", study).status_code == 200
        receipt = _new_receipt(alice, before)
        assert receipt["state"] == "queued" and receipt["destination"] == pacs["id"], receipt
        assert receipt["instances"] == len(series["ct2"])
        job = alice.get(f"/api/jobs/{receipt['job_id']}").json()
        assert (job["quality"], job["engine"]) == ("fast", "tissue")
        # The job finishes (as a worker would) with a DICOM result; it goes back to Orthanc.
        result = series["result"][0]
        settings = Settings(data_dir=service.data_dir)
        assert finish_next_job(settings, {"dicom_seg": result.read_bytes()}) == job["id"]
        done = _wait(lambda: (r := _receipts(alice)[0])["state"] not in ("queued", "delivering")
                     and r, "the results delivered")
        assert done["state"] == "delivered", done
        with orthanc.client() as http:
            found = http.post("/tools/lookup", content=_sop_uid(result)).json()
        assert [item["Type"] for item in found] == ["Instance"]


@pytest.mark.usefixtures("modalities")
def test_a_routed_study_processed_by_a_worker_goes_back_as_dicom(
    service: LiveService, orthanc: Orthanc, series: dict[str, list[Path]]
) -> None:
    """The whole way: C-STORE in, a real worker, the DICOM-SEG back to the sender's PACS,
    referencing the series it segments. A build whose jobs make no DICOM results says so in
    the receipt instead."""
    ct = _study_in_orthanc(orthanc, series["ct"])
    source_series = str(dcmread(series["ct"][0], stop_before_pixels=True).SeriesInstanceUID)
    with _user(service, BOB) as bob, service.explained():
        pacs = bob.post("/api/pacs/servers", json={"name": "Orthanc",
                                                   "url": orthanc.dicomweb_url}).json()
        rule = {"quality": "fast", "engine": "tissue", "destination": pacs["id"]}
        assert bob.put("/api/dicom/rule", json=rule).status_code == 200
        before = len(_receipts(bob))
        assert _c_store(orthanc, "iris", ct).status_code == 200
        receipt = _new_receipt(bob, before)
        assert receipt["state"] == "queued", receipt
        service.start_worker()
        done = _wait(lambda: (r := _receipts(bob)[0])["state"] not in ("queued", "delivering")
                     and r, "the job finished and its results handled", timeout_s=600)
        job = bob.get(f"/api/jobs/{receipt['job_id']}").json()
        assert job["state"] == "done", job
        names = {a["name"] for a in job["artifacts"]}
        if "dicom_seg" not in names:
            assert done["state"] == "processed", done
            assert "made no DICOM results" in done["reason"]
            return
        assert done["state"] == "delivered", done
        with orthanc.client() as http:
            found = http.post("/tools/find", json={"Level": "Instance",
                                                   "Query": {"Modality": "SEG"}}).json()
            assert len(found) == 1, found
            seg = dcmread(io.BytesIO(http.get(f"/instances/{found[0]}/file").content))
        referenced = {str(item.SeriesInstanceUID) for item in seg.ReferencedSeriesSequence}
        assert referenced == {source_series}
