"""What kind of study a path holds, from its name and, failing that, its first bytes."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from iris3d.contracts.formats import ITK_SUFFIXES, NIFTI_SUFFIXES
from iris3d.ingest.errors import IngestError, UnsupportedFormatError


class StudyFormat(StrEnum):
    NIFTI = "nifti"
    ITK = "itk"  # NRRD, MetaImage
    DICOM_FOLDER = "dicom-folder"
    ZIP = "zip"
    DICOM_FILE = "dicom-file"


def detect_format(path: Path) -> StudyFormat:
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    if path.is_dir():
        return StudyFormat.DICOM_FOLDER
    name = path.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return StudyFormat.NIFTI
    if name.endswith(ITK_SUFFIXES):
        return StudyFormat.ITK
    if name.endswith(".zip"):
        return StudyFormat.ZIP
    return _sniff(path)


def _sniff(path: Path) -> StudyFormat:
    with path.open("rb") as f:
        head = f.read(352)
    if head[:4] == b"PK\x03\x04":
        return StudyFormat.ZIP
    if len(head) >= 132 and head[128:132] == b"DICM":
        return StudyFormat.DICOM_FILE
    if len(head) >= 348 and head[344:348] in (b"n+1\x00", b"ni1\x00", b"n+2\x00"):
        return StudyFormat.NIFTI
    if head[:2] == b"\x1f\x8b":
        raise UnsupportedFormatError(
            f"{path.name}: a gzip file without a known name; rename it to .nii.gz if it is NIfTI"
        )
    raise UnsupportedFormatError(
        f"{path.name}: not a file Iris reads (expected .nii, .nii.gz, .nrrd, .mha, .mhd, "
        "a DICOM series folder or a .zip of one)"
    )
