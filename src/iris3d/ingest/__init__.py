"""Any CT study (NIfTI, NRRD/MHA, a DICOM series folder or a .zip of one) to one :class:`CTVolume`.

Every reader returns voxels reoriented to RAS+ (see :mod:`iris3d.volume`) and raises a subclass of
:class:`~iris3d.ingest.errors.IngestError` with a message naming the problem.
"""

from __future__ import annotations

from pathlib import Path

from iris3d.contracts.formats import VOLUME_SUFFIXES
from iris3d.ingest.detect import StudyFormat, detect_format
from iris3d.ingest.errors import IngestError, NotAVolumeError, UnsupportedFormatError
from iris3d.ingest.itk_header import Detached
from iris3d.settings import Settings, get_settings
from iris3d.volume import CTVolume, SeriesSummary

__all__ = [
    "Detached", "IngestError", "StudyFormat", "detect_format", "list_series", "load_study",
    "volume_file_in",
]


def load_study(
    path: Path,
    *,
    series_uid: str | None = None,
    allow_non_ct: bool = False,
    settings: Settings | None = None,
    detached: Detached = Detached.REFUSE,
) -> CTVolume:
    """Load the study at ``path``; for DICOM, ``series_uid`` picks a series (default: the largest
    axial CT series, said in the metadata's warnings). ``detached`` says where an NRRD/MetaImage
    header may take its voxels from (by default only from its own file)."""
    settings = settings or get_settings()
    path = Path(path)
    fmt = detect_format(path)
    if fmt is StudyFormat.DICOM_FILE:
        raise NotAVolumeError(
            f"{path.name}: a single DICOM image is one slice; give the folder of its series "
            "or a .zip of it"
        )
    if fmt in (StudyFormat.NIFTI, StudyFormat.ITK):
        return _load_volume_file(path, fmt, settings, detached)
    from iris3d.ingest.archive import unpacked_study
    from iris3d.ingest.dicom import load_dicom_series

    with unpacked_study(path, fmt, settings) as folder:
        volume_file = volume_file_in(folder) if fmt is StudyFormat.ZIP else None
        if volume_file is not None:
            # The zip's own files, unpacked into a fresh folder: a header may use those.
            return _load_volume_file(volume_file, detect_format(volume_file), settings,
                                     Detached.SAME_FOLDER)
        return load_dicom_series(
            folder, series_uid=series_uid, allow_non_ct=allow_non_ct, settings=settings
        )


def _load_volume_file(
    path: Path, fmt: StudyFormat, settings: Settings, detached: Detached
) -> CTVolume:
    if fmt is StudyFormat.NIFTI:
        from iris3d.ingest.nifti import load_nifti

        return load_nifti(path, settings.max_voxels)
    from iris3d.ingest.itk import load_itk

    return load_itk(path, settings.max_voxels, detached)


def volume_file_in(folder: Path) -> Path | None:
    """The one NIfTI/NRRD/MetaImage file in an unpacked zip (None: a DICOM zip)."""
    found = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.name.lower().endswith(VOLUME_SUFFIXES)
    )
    if len(found) > 1:
        raise UnsupportedFormatError(
            f"the zip holds {len(found)} images ({', '.join(p.name for p in found[:3])}...); "
            "send one study at a time"
        )
    return found[0] if found else None


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
