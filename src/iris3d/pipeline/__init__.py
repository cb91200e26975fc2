"""One study end to end: ingest -> segment -> mesh -> export -> stats, written atomically;
and two processed studies of one patient compared (register -> compare -> export)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from iris3d.pipeline.atomic import OutputExistsError, atomic_directory
from iris3d.pipeline.progress import ProgressSink, ignore_progress, overall_fraction
from iris3d.pipeline.study import ProcessOptions, StudyResult, process_study

if TYPE_CHECKING:
    from iris3d.pipeline.compare import (
        COMPARE_WEIGHTS,
        ComparisonResult,
        StudyFolderError,
        compare_studies,
        comparison_fraction,
    )

# Comparisons need SimpleITK (~100 MB resident, a second to load): loaded on first use only, so
# that processing one study (``iris process``, a worker's job) does not carry it.
_COMPARE = {"COMPARE_WEIGHTS", "ComparisonResult", "StudyFolderError", "compare_studies",
            "comparison_fraction"}


def __getattr__(name: str) -> Any:
    if name in _COMPARE:
        return getattr(importlib.import_module("iris3d.pipeline.compare"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COMPARE_WEIGHTS",
    "ComparisonResult",
    "OutputExistsError",
    "ProcessOptions",
    "ProgressSink",
    "StudyFolderError",
    "StudyResult",
    "atomic_directory",
    "compare_studies",
    "comparison_fraction",
    "ignore_progress",
    "overall_fraction",
    "process_study",
]
