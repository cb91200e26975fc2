"""The vocabulary shared by every layer, defined once: names of qualities, engines, stages, job
states and artifacts, the blob key layout, and the study file types.

It imports nothing of Iris, so every module may import it.
"""

from iris3d.contracts.artifacts import (
    ARTIFACT_FILES,
    COMPARISON_INPUTS,
    ArtifactFile,
    ArtifactName,
    artifact_filename,
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
    "Stage",
    "artifact_filename",
]
