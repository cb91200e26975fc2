"""One study end to end: ingest -> segment -> mesh -> export -> stats, written atomically."""

from iris3d.pipeline.atomic import OutputExistsError, atomic_directory
from iris3d.pipeline.progress import ProgressSink, Stage, ignore_progress, overall_fraction
from iris3d.pipeline.study import ProcessOptions, StudyResult, process_study

__all__ = [
    "OutputExistsError",
    "ProcessOptions",
    "ProgressSink",
    "Stage",
    "StudyResult",
    "atomic_directory",
    "ignore_progress",
    "overall_fraction",
    "process_study",
]
