"""The vocabulary shared by every layer, defined once: names of qualities, engines, stages, job
states and artifacts, the blob key layout, the study file types, and the folder of a job's
results.

It imports nothing of Iris, so every module may import it.
"""

from iris3d.contracts.artifacts import (
    ARTIFACT_FILES,
    COMPARISON_INPUTS,
    ArtifactFile,
    ArtifactName,
    artifact_filename,
    missing_artifacts,
)
from iris3d.contracts.names import (
    COMPARISON_ENGINE,
    FINISHED_STATES,
    EngineName,
    JobKind,
    JobStage,
    JobState,
    Quality,
    Stage,
)
from iris3d.contracts.results import ResultsFolder

__all__ = [
    "ARTIFACT_FILES",
    "COMPARISON_ENGINE",
    "COMPARISON_INPUTS",
    "FINISHED_STATES",
    "ArtifactFile",
    "ArtifactName",
    "EngineName",
    "JobKind",
    "JobStage",
    "JobState",
    "Quality",
    "ResultsFolder",
    "Stage",
    "artifact_filename",
    "missing_artifacts",
]
