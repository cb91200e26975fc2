"""One study end to end: ingest -> segment -> mesh -> export -> stats, written atomically;
and two processed studies of one patient compared (register -> compare -> export)."""

from iris3d.pipeline.atomic import OutputExistsError, atomic_directory
from iris3d.pipeline.compare import (
    COMPARE_WEIGHTS,
    ComparisonResult,
    StudyFolderError,
    compare_studies,
    comparison_fraction,
)
from iris3d.pipeline.progress import ProgressSink, Stage, ignore_progress, overall_fraction
from iris3d.pipeline.study import ProcessOptions, StudyResult, process_study

__all__ = [
    "COMPARE_WEIGHTS",
    "ComparisonResult",
    "OutputExistsError",
    "ProcessOptions",
    "ProgressSink",
    "Stage",
    "StudyFolderError",
    "StudyResult",
    "atomic_directory",
    "compare_studies",
    "comparison_fraction",
    "ignore_progress",
    "overall_fraction",
    "process_study",
]
