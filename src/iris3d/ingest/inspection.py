"""What an upload check reports about a study: read exactly as the pipeline will read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iris3d.ingest import detect_format, list_series, load_study
from iris3d.settings import Settings


@dataclass(frozen=True)
class Inspection:
    source_format: str
    metadata: dict[str, Any]
    series: list[dict[str, Any]]
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]


def inspect(path: Path, series_uid: str | None, settings: Settings) -> Inspection:
    """Read the study as the pipeline will; raises the ingest error that explains a refusal."""
    fmt = detect_format(path)
    series = [s.to_dict() for s in list_series(path, settings=settings)]
    volume = load_study(path, series_uid=series_uid, settings=settings)
    metadata = volume.metadata.to_dict()
    metadata.pop("series", None)
    return Inspection(
        source_format=fmt.value,
        metadata=metadata,
        series=series,
        shape=volume.shape,
        spacing_mm=tuple(round(s, 4) for s in volume.spacing),  # type: ignore[arg-type]
    )
