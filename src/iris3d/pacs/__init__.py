"""A DICOMweb client: find series in a PACS (QIDO-RS), bring one into a folder (WADO-RS) and
send results back (STOW-RS). An input source beside ``ingest`` that does network I/O; only the
API and the CLI use it."""

from iris3d.pacs.client import DicomWebClient, SearchFilter
from iris3d.pacs.errors import (
    PacsAuthError,
    PacsError,
    PacsNotFoundError,
    PacsRefusedError,
    PacsTooLargeError,
    PacsUnavailableError,
)
from iris3d.pacs.results import SeriesHit, StudyHit

__all__ = [
    "DicomWebClient",
    "PacsAuthError",
    "PacsError",
    "PacsNotFoundError",
    "PacsRefusedError",
    "PacsTooLargeError",
    "PacsUnavailableError",
    "SearchFilter",
    "SeriesHit",
    "StudyHit",
]
