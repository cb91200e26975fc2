"""The names every layer shares: quality levels, engines, pipeline stages, job states and kinds.

Defined once here, below every stage; the API exposes them as OpenAPI enums, so the web app's
TypeScript types are generated from these and never retyped.
"""

from __future__ import annotations

from enum import StrEnum


class Quality(StrEnum):
    FASTEST = "fastest"  # 6 mm preview
    FAST = "fast"  # 3 mm
    NORMAL = "normal"  # 1.5 mm
    HIGH = "high"  # the normal model with the finest mesh detail


class EngineName(StrEnum):
    """What ``--engine`` and ``POST /api/jobs`` take."""

    AUTO = "auto"  # TotalSegmentator where its weights are installed, else tissue
    TOTALSEGMENTATOR = "totalsegmentator"
    TISSUE = "tissue"
    IMPORT = "import"  # a segmentation made elsewhere

    @property
    def needs_gpu(self) -> bool:
        """Whether a job for this engine belongs on a GPU worker (``auto`` may run the model)."""
        return self in (EngineName.AUTO, EngineName.TOTALSEGMENTATOR)


COMPARISON_ENGINE = "compare"
"""Engine and quality recorded on every comparison job: they route it to CPU workers and keep its
past durations apart from the studies' when estimating times."""


class Stage(StrEnum):
    """A step of processing: a study runs ingest to stats; a comparison ingest, register,
    compare and export."""

    INGEST = "ingest"
    SEGMENT = "segment"
    MESH = "mesh"
    EXPORT = "export"
    STATS = "stats"
    REGISTER = "register"
    COMPARE = "compare"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


class JobKind(StrEnum):
    STUDY = "study"  # process one study: segment, mesh, measure
    COMPARISON = "comparison"  # compare two processed studies of one patient


class JobStage(StrEnum):
    """Where a job is, as the API reports it: waiting, one of the stages, or finished."""

    QUEUED = JobState.QUEUED.value
    INGEST = Stage.INGEST.value
    SEGMENT = Stage.SEGMENT.value
    MESH = Stage.MESH.value
    EXPORT = Stage.EXPORT.value
    STATS = Stage.STATS.value
    REGISTER = Stage.REGISTER.value
    COMPARE = Stage.COMPARE.value
    DONE = JobState.DONE.value
    FAILED = JobState.FAILED.value
    CANCELLED = JobState.CANCELLED.value
