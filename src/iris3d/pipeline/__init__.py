"""One study end to end: ingest -> segment -> mesh -> export -> stats, written atomically;
and two processed studies of one patient compared (register -> compare -> export)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from iris3d.contracts.names import Stage
from iris3d.pipeline.atomic import OutputExistsError, atomic_directory
from iris3d.pipeline.progress import COMPARISON_STAGES, STUDY_STAGES
from iris3d.pipeline.study import ProcessOptions, StudyResult, process_study

if TYPE_CHECKING:
    from iris3d.pipeline.compare import (
        ComparisonResult,
        StudyFolderError,
        compare_studies,
    )

# Comparisons need SimpleITK (~100 MB resident, a second to load): loaded on first use only, so
# that processing one study (``iris process``, a worker's job) does not carry it.
_COMPARE = {"ComparisonResult", "StudyFolderError", "compare_studies"}


def __getattr__(name: str) -> Any:
    if name in _COMPARE:
        return getattr(importlib.import_module("iris3d.pipeline.compare"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COMPARISON_STAGES",
    "STUDY_STAGES",
    "ComparisonResult",
    "OutputExistsError",
    "ProcessOptions",
    "Stage",
    "StudyFolderError",
    "StudyResult",
    "atomic_directory",
    "compare_studies",
    "process_study",
]
