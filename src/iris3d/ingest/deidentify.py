"""Remove what identifies a patient from uploaded DICOM files before they are kept.

Iris keeps an upload so that jobs can read it again; the copy it keeps carries no names, IDs,
birth dates, accession numbers, institutions, physicians or dates (a subset of DICOM PS3.15's
basic profile that covers what Iris never needs), no private tags (where vendors put anything),
and no DICOMDIR or other non-image files. UIDs stay: they pick a series, and name no one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

IDENTIFYING = frozenset({
    "AccessionNumber", "AcquisitionDate", "AcquisitionDateTime", "AcquisitionTime",
    "AdditionalPatientHistory", "AdmittingDiagnosesDescription", "ContentDate", "ContentTime",
    "DerivationDescription", "DeviceSerialNumber", "ImageComments", "InstanceCreationDate",
    "InstanceCreationTime", "InstitutionAddress", "InstitutionName",
    "InstitutionalDepartmentName", "IssuerOfPatientID", "NameOfPhysiciansReadingStudy",
    "OperatorsName", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
    "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    "PerformingPhysicianName", "PhysiciansOfRecord", "ReferringPhysicianName",
    "RequestAttributesSequence", "RequestingPhysician", "SeriesDate", "SeriesTime",
    "StationName", "StudyDate", "StudyDescription", "StudyID", "StudyTime",
})
_PATIENT_GROUP = 0x0010  # every Patient* attribute: name, ID, birth date, sex, age, address...
_DICOMDIR = "1.2.840.10008.1.3.10"


def deidentify_folder(folder: Path) -> int:
    """Rewrite every DICOM file under ``folder`` without identifying data and delete every other
    file; returns the number of DICOM files kept."""
    kept = 0
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_symlink() or not _deidentified(path):
                path.unlink()
            else:
                kept += 1
    return kept


def _deidentified(path: Path) -> bool:
    try:
        ds = pydicom.dcmread(path, force=_raw_dataset(path))
        if str(ds.get("SOPClassUID", "")) == _DICOMDIR or "PixelData" not in ds:
            return False
        ds.remove_private_tags()
        ds.walk(_drop_identifying)
        ds.save_as(path)
    except Exception as e:  # pydicom raises many types; such a file was no usable image anyway
        log.info("dropped an unreadable file from an upload: %s", type(e).__name__)
        return False
    return True


def _raw_dataset(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(132)
    return head[128:132] != b"DICM"


def _drop_identifying(dataset: Dataset, element: DataElement) -> None:
    if element.tag.group == _PATIENT_GROUP or element.keyword in IDENTIFYING:
        del dataset[element.tag]
