"""Results get their patient back from the PACS's record of the source series, in memory, on
their way out (the PACS's answers are scripted here; tests/integration/test_pacs_roundtrip.py
runs against a real Orthanc)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SegmentationStorage, generate_uid

from iris3d.export.dicom_common import empty_patient_module
from iris3d.pacs import DicomWebClient
from iris3d.pacs.errors import PacsRefusedError, PacsSourceGoneError
from iris3d.pacs.reidentify import (
    IDENTIFYING_KEYWORDS,
    ResultsNotSendableError,
    identity_from_json,
    reidentified_instances,
    reidentify,
    source_series,
)
from iris3d.settings import PacsServerConfig

STUDY, SERIES = "1.2.826.0.1.3680043.2.1", "1.2.826.0.1.3680043.2.1.7"


def _source_header() -> Dataset:
    """What a PACS holds about the CT: identifiers, and much that a result must not take."""
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-0042"
    ds.IssuerOfPatientID = "HOSPITAL-A"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate, ds.StudyTime = "20240105", "101500"
    ds.AccessionNumber = "ACC-77"
    ds.ReferringPhysicianName = "House^Greg"
    ds.StudyID = "S1"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY, SERIES
    ds.SOPInstanceUID = generate_uid()
    ds.InstitutionName = "General Hospital"
    ds.SeriesDescription = "Abdomen"
    ds.Modality = "CT"
    return ds


def _metadata() -> dict[str, Any]:
    answer = _source_header().to_json_dict()
    answer["7FE00010"] = {"vr": "OW", "BulkDataURI": "http://pacs.test/bulk/1"}
    answer["00091001"] = {"vr": "LO", "Value": ["private"]}
    return answer


def _seg(*, referenced: bool = True) -> Dataset:
    ds = Dataset()
    empty_patient_module(ds)
    ds.SOPClassUID = SegmentationStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY, generate_uid()
    ds.Modality = "SEG"
    if referenced:
        item = Dataset()
        item.SeriesInstanceUID = SERIES
        ds.ReferencedSeriesSequence = [item]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SegmentationStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def _bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _client(answer: httpx.Response, seen: list[str]) -> DicomWebClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return answer

    config = PacsServerConfig(name="Test PACS", url="http://pacs.test/dicom-web")
    return DicomWebClient(config, transport=httpx.MockTransport(handler))


def test_only_the_identifying_attributes_are_taken() -> None:
    identity = identity_from_json(_metadata())
    assert sorted(e.keyword for e in identity) == sorted(IDENTIFYING_KEYWORDS)
    assert str(identity.PatientName) == "Doe^Jane" and identity.AccessionNumber == "ACC-77"


def test_copying_fills_the_patient_and_study_and_nothing_else() -> None:
    seg = _seg()
    own_series = seg.SeriesInstanceUID
    reidentify(seg, identity_from_json(_metadata()))
    source = _source_header()
    for keyword in IDENTIFYING_KEYWORDS:
        assert seg.data_element(keyword).value == source.data_element(keyword).value, keyword
    assert seg.SeriesInstanceUID == own_series and seg.StudyInstanceUID == STUDY
    assert "InstitutionName" not in seg and "SeriesDescription" not in seg


def test_what_the_source_lacks_stays_empty() -> None:
    seg = _seg()
    reidentify(seg, identity_from_json({"00100020": {"vr": "LO", "Value": ["MRN-1"]}}))
    assert seg.PatientID == "MRN-1"
    assert seg.PatientName == "" and seg.StudyDate == "" and "IssuerOfPatientID" not in seg


def test_the_source_series_is_the_one_the_seg_references() -> None:
    assert source_series(_seg()).series_uid == SERIES
    with pytest.raises(ResultsNotSendableError, match="does not reference"):
        source_series(_seg(referenced=False))


def test_results_are_reidentified_in_memory_from_the_series_metadata() -> None:
    seen: list[str] = []
    answer = httpx.Response(200, json=[_metadata(), {}])
    seg, report = _seg(), _seg()
    with _client(answer, seen) as pacs:
        sent = reidentified_instances(pacs, [_bytes(seg), _bytes(report)])
    assert seen == [f"/dicom-web/studies/{STUDY}/series/{SERIES}/metadata"]
    for data, original in zip(sent, (seg, report), strict=True):
        ds = pydicom.dcmread(io.BytesIO(data))
        assert ds.PatientID == "MRN-0042" and ds.PatientBirthDate == "19700101"
        assert ds.SOPInstanceUID == original.SOPInstanceUID


@pytest.mark.parametrize("answer", [httpx.Response(404), httpx.Response(200, json=[])])
def test_a_source_series_the_pacs_no_longer_has_refuses_the_send(answer: httpx.Response) -> None:
    with _client(answer, []) as pacs, pytest.raises(PacsSourceGoneError, match="no longer has"):
        reidentified_instances(pacs, [_bytes(_seg())])


@pytest.mark.parametrize("body", [
    {"not": "a list"},
    [{"00100020": {"vr": "LO", "Value": "not a list"}}],
    [{"00100020": {"Value": ["no VR"]}}],
])
def test_a_hostile_metadata_answer_is_refused(body: Any) -> None:
    with _client(httpx.Response(200, json=body), []) as pacs, \
            pytest.raises(PacsRefusedError, match="DICOM JSON"):
        reidentified_instances(pacs, [_bytes(_seg())])
