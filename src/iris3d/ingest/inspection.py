"""What an upload check reports about a study: read exactly as the pipeline will read it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from iris3d.ingest import StudyFormat, detect_format, list_series, load_study, volume_file_in
from iris3d.ingest.archive import extract_zip
from iris3d.ingest.deidentify import deidentify_folder
from iris3d.ingest.limits import ReadLimits


@dataclass(frozen=True)
class Inspection:
    source_format: str
    metadata: dict[str, Any]
    series: list[dict[str, Any]]
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]


def inspect(path: Path, series_uid: str | None, limits: ReadLimits) -> Inspection:
    """Read the study as the pipeline will; raises the ingest error that explains a refusal."""
    fmt = detect_format(path)
    series = [s.to_dict() for s in list_series(path, limits=limits)]
    volume = load_study(path, series_uid=series_uid, limits=limits)
    metadata = volume.metadata.to_dict()
    metadata.pop("series", None)
    return Inspection(
        source_format=fmt.value,
        metadata=metadata,
        series=series,
        shape=volume.shape,
        spacing_mm=tuple(round(s, 4) for s in volume.spacing),  # type: ignore[arg-type]
    )


def inspect_upload(
    path: Path, series_uid: str | None, limits: ReadLimits
) -> tuple[Inspection, Path]:
    """De-identify an uploaded DICOM study in place, then inspect it; returns the inspection and
    the path to keep (a zip of DICOM becomes its de-identified folder). Run in a limited child:
    both steps parse untrusted files."""
    fmt = uploaded = detect_format(path)
    if fmt is StudyFormat.ZIP:
        unpacked = path.with_name(f"{path.name}.files")
        unpacked.mkdir()
        extract_zip(path, unpacked, limits)
        if volume_file_in(unpacked) is None:
            path.unlink()
            path = unpacked
            fmt = StudyFormat.DICOM_FOLDER
        else:
            shutil.rmtree(unpacked)
    if fmt is StudyFormat.DICOM_FOLDER:
        deidentify_folder(path)
    inspection = inspect(path, series_uid, limits)
    return replace(inspection, source_format=uploaded.value), path
