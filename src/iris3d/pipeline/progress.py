"""The stages of a study's processing and of a comparison, each with its share of the time.

Measured on CPU with the tissue engine and the fast TotalSegmentator model (studies), and at
128^3 (comparisons); they turn stage progress into one overall percentage
(:meth:`~iris3d.contracts.progress.StagePlan.overall`).
"""

from __future__ import annotations

from iris3d.contracts.names import Stage
from iris3d.contracts.progress import StagePlan

STUDY_STAGES = StagePlan((
    (Stage.INGEST, 0.05),
    (Stage.SEGMENT, 0.60),
    (Stage.MESH, 0.20),
    (Stage.EXPORT, 0.10),
    (Stage.STATS, 0.05),
))
COMPARISON_STAGES = StagePlan((
    (Stage.INGEST, 0.10),
    (Stage.REGISTER, 0.50),
    (Stage.COMPARE, 0.30),
    (Stage.EXPORT, 0.10),
))
