"""QIDO-RS answers (DICOM JSON) as typed hits.

Hits may name the patient: they are shown to the user who searched and never stored or logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iris3d.pacs.errors import PacsRefusedError

_STUDY_UID = "0020000D"
_SERIES_UID = "0020000E"
_STUDY_DATE = "00080020"
_SERIES_DATE = "00080021"
_STUDY_DESCRIPTION = "00081030"
_SERIES_DESCRIPTION = "0008103E"
_MODALITY = "00080060"
_MODALITIES_IN_STUDY = "00080061"
_SERIES_NUMBER = "00200011"
_SERIES_INSTANCES = "00201209"
_STUDY_SERIES = "00201206"
_STUDY_INSTANCES = "00201208"
_PATIENT_NAME = "00100010"
_PATIENT_ID = "00100020"

STUDY_FIELDS = (_STUDY_DESCRIPTION, _MODALITIES_IN_STUDY, _STUDY_SERIES, _STUDY_INSTANCES)
SERIES_FIELDS = (_STUDY_DATE, _STUDY_DESCRIPTION, _SERIES_DATE, _SERIES_NUMBER,
                 _SERIES_INSTANCES, _PATIENT_NAME, _PATIENT_ID)


@dataclass(frozen=True)
class StudyHit:
    study_uid: str
    date: str | None
    description: str
    modalities: list[str]
    series_count: int | None
    instance_count: int | None
    patient_name: str
    patient_id: str


@dataclass(frozen=True)
class SeriesHit:
    study_uid: str
    series_uid: str
    date: str | None
    modality: str
    description: str
    study_description: str
    number: int | None
    instance_count: int | None
    patient_name: str
    patient_id: str


def _values(item: dict[str, Any], tag: str) -> list[Any]:
    element = item.get(tag)
    if not isinstance(element, dict):
        return []
    values = element.get("Value")
    return values if isinstance(values, list) else []


def _text(item: dict[str, Any], tag: str) -> str:
    values = _values(item, tag)
    if not values:
        return ""
    first = values[0]
    if isinstance(first, dict):  # a person name: its alphabetic form
        return str(first.get("Alphabetic", ""))
    return str(first)


def _number(item: dict[str, Any], tag: str) -> int | None:
    text = _text(item, tag)
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _date(item: dict[str, Any], *tags: str) -> str | None:
    """The first of ``tags`` holding a DICOM date, as ISO 8601 (YYYY-MM-DD)."""
    for tag in tags:
        text = _text(item, tag)
        if len(text) == 8 and text.isdigit():
            return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return None


def _items(answer: Any) -> list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(item, dict) for item in answer):
        raise PacsRefusedError("The PACS answered the search with something other than DICOM JSON.")
    return answer


def study_hits(answer: Any) -> list[StudyHit]:
    return [
        StudyHit(
            study_uid=_text(item, _STUDY_UID),
            date=_date(item, _STUDY_DATE),
            description=_text(item, _STUDY_DESCRIPTION),
            modalities=[str(v) for v in _values(item, _MODALITIES_IN_STUDY)],
            series_count=_number(item, _STUDY_SERIES),
            instance_count=_number(item, _STUDY_INSTANCES),
            patient_name=_text(item, _PATIENT_NAME),
            patient_id=_text(item, _PATIENT_ID),
        )
        for item in _items(answer)
        if _text(item, _STUDY_UID)
    ]


def series_hits(answer: Any) -> list[SeriesHit]:
    return [
        SeriesHit(
            study_uid=_text(item, _STUDY_UID),
            series_uid=_text(item, _SERIES_UID),
            date=_date(item, _SERIES_DATE, _STUDY_DATE),
            modality=_text(item, _MODALITY),
            description=_text(item, _SERIES_DESCRIPTION),
            study_description=_text(item, _STUDY_DESCRIPTION),
            number=_number(item, _SERIES_NUMBER),
            instance_count=_number(item, _SERIES_INSTANCES),
            patient_name=_text(item, _PATIENT_NAME),
            patient_id=_text(item, _PATIENT_ID),
        )
        for item in _items(answer)
        if _text(item, _STUDY_UID) and _text(item, _SERIES_UID)
    ]
