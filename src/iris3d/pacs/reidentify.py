"""Results made from a de-identified series get the patient back on their way to the PACS.

Iris keeps no names, IDs or dates, so its DICOM-SEG and SR carry an empty patient module and
empty study attributes; a PACS files an instance by PatientID and StudyInstanceUID, and would
file them as a new patient. Just before sending, the patient module and the study's identifying
attributes are copied from the PACS's own record of the source series into the datasets, in
memory: they are never written to Iris's storage, its database or its logs."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from pydicom import dcmread
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from iris3d.pacs.client import DicomWebClient
from iris3d.pacs.errors import PacsNotFoundError, PacsRefusedError, PacsSourceGoneError

IDENTIFYING_KEYWORDS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
)
"""What a result takes from its source: the Patient module and the study's identifying
attributes (General Study module)."""


def _json_tag(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return f"{tag:08X}"


_JSON_TAGS = {_json_tag(keyword): keyword for keyword in IDENTIFYING_KEYWORDS}


class ResultsNotSendableError(PacsSourceGoneError):
    """These results do not say which series they were made from: nothing was sent."""


@dataclass(frozen=True)
class SourceSeries:
    study_uid: str
    series_uid: str


def identity_from_json(metadata: dict[str, Any]) -> Dataset:
    """The identifying attributes of a DICOM JSON header (WADO-RS metadata), nothing else: the
    rest of the header (bulk data links, private tags) is never parsed."""
    kept = {tag: value for tag, value in metadata.items() if tag.upper() in _JSON_TAGS}
    return Dataset.from_json(kept)


def reidentify(result: Dataset, identity: Dataset) -> None:
    """Copy ``identity``'s attributes into ``result``; those the source lacks stay as they are
    (empty, where the result's module requires them present)."""
    for keyword in IDENTIFYING_KEYWORDS:
        element = identity.data_element(keyword) if keyword in identity else None
        if element is not None:
            setattr(result, keyword, element.value)


def source_series(seg: Dataset) -> SourceSeries:
    """The series a DICOM-SEG was made from (its Referenced Series Sequence)."""
    referenced = seg.get("ReferencedSeriesSequence") or []
    series = [str(item.get("SeriesInstanceUID", "")) for item in referenced]
    study = str(seg.get("StudyInstanceUID", ""))
    if not study or not series or not series[0]:
        raise ResultsNotSendableError(
            "The DICOM-SEG does not reference the series it was made from, so the PACS's record "
            "of the patient cannot be found: nothing was sent."
        )
    return SourceSeries(study_uid=study, series_uid=series[0])


def fetch_identity(pacs: DicomWebClient, source: SourceSeries) -> Dataset:
    """The PACS's identifying attributes for ``source``; refused when the PACS no longer has it."""
    try:
        metadata = pacs.series_metadata(source.study_uid, source.series_uid)
    except PacsNotFoundError as e:
        raise PacsSourceGoneError(
            f"The PACS {pacs.server.name!r} no longer has the series these results were made "
            "from, so they cannot be filed with its patient: nothing was sent."
        ) from e
    try:
        return identity_from_json(metadata)
    except (TypeError, ValueError, KeyError, AttributeError) as e:  # pydicom's, on bad JSON
        raise PacsRefusedError(
            f"The PACS {pacs.server.name!r} answered the metadata request with a header that is "
            "not DICOM JSON: nothing was sent."
        ) from e


def reidentified_instances(pacs: DicomWebClient, results: list[bytes]) -> list[bytes]:
    """``results`` (DICOM files, the SEG first) with the patient and study attributes from the
    PACS's record of their source series, serialised in memory for STOW-RS."""
    datasets = [dcmread(io.BytesIO(data)) for data in results]
    identity = fetch_identity(pacs, source_series(datasets[0]))
    sent = []
    for ds in datasets:
        reidentify(ds, identity)
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        sent.append(buffer.getvalue())
    return sent
