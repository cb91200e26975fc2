"""The Orthanc fixture itself: it starts, holds what is put in, answers DICOMweb, and enforces
basic authentication when given a user."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.orthanc import orthanc_server, series_instance_uids, store_instances

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series


def test_orthanc_holds_a_stored_series_and_answers_qido(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    paths = write_dicom_series(small_phantom.ct, tmp_path / "dicom", series_uid="1.2.826.0.1.7.1")
    with orthanc_server(tmp_path / "orthanc") as orthanc:
        assert len(store_instances(orthanc, paths)) == len(paths)
        assert series_instance_uids(orthanc) == ["1.2.826.0.1.7.1"]
        found = httpx.get(f"{orthanc.dicomweb_url}/series", timeout=10).json()
        assert [s["0020000E"]["Value"][0] for s in found] == ["1.2.826.0.1.7.1"]


def test_orthanc_with_a_user_refuses_anonymous_requests(tmp_path: Path) -> None:
    with orthanc_server(tmp_path / "orthanc", username="iris", password="s3cret") as orthanc:
        assert httpx.get(f"{orthanc.dicomweb_url}/studies", timeout=10).status_code == 401
        bad = httpx.get(f"{orthanc.dicomweb_url}/studies", auth=("iris", "wrong"), timeout=10)
        assert bad.status_code == 401
        with orthanc.client() as http:
            assert http.get("/dicom-web/studies").status_code == 200
