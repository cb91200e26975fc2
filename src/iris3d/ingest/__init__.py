"""Any CT study (NIfTI, NRRD/MHA, a DICOM series folder or a .zip of one) to one :class:`CTVolume`.

Every reader returns voxels reoriented to RAS+ (see :mod:`iris3d.volume`) and raises a subclass of
:class:`~iris3d.ingest.errors.IngestError` with a message naming the problem.
"""

from __future__ import annotations

from pathlib import Path

from iris3d.ingest.detect import StudyFormat, detect_format
from iris3d.ingest.errors import IngestError, NotAVolumeError
from iris3d.settings import Settings, get_settings
from iris3d.volume import CTVolume, SeriesSummary

__all__ = ["IngestError", "StudyFormat", "detect_format", "list_series", "load_study"]


def load_study(
    path: Path,
    *,
    series_uid: str | None = None,
    allow_non_ct: bool = False,
    settings: Settings | None = None,
) -> CTVolume:
    """Load the study at ``path``; for DICOM, ``series_uid`` picks a series (default: the largest
    axial CT series, said in the metadata's warnings)."""
    settings = settings or get_settings()
    path = Path(path)
    fmt = detect_format(path)
    if fmt is StudyFormat.NIFTI:
        from iris3d.ingest.nifti import load_nifti

        return load_nifti(path, settings.max_voxels)
    if fmt is StudyFormat.ITK:
        from iris3d.ingest.itk import load_itk

        return load_itk(path, settings.max_voxels)
    if fmt is StudyFormat.DICOM_FILE:
        raise NotAVolumeError(
            f"{path.name}: a single DICOM image is one slice; give the folder of its series "
            "or a .zip of it"
        )
    from iris3d.ingest.archive import unpacked_study
    from iris3d.ingest.dicom import load_dicom_series

    with unpacked_study(path, fmt, settings) as folder:
        return load_dicom_series(
            folder, series_uid=series_uid, allow_non_ct=allow_non_ct, settings=settings
        )


def list_series(path: Path, *, settings: Settings | None = None) -> list[SeriesSummary]:
    """The DICOM series in a folder or zip (empty for single-volume formats)."""
    settings = settings or get_settings()
    fmt = detect_format(Path(path))
    if fmt not in (StudyFormat.DICOM_FOLDER, StudyFormat.ZIP):
        return []
    from iris3d.ingest.archive import unpacked_study
    from iris3d.ingest.dicom import scan_series

    with unpacked_study(Path(path), fmt, settings) as folder:
        return [s.summary for s in scan_series(folder)]
