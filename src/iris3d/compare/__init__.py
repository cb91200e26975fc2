"""Two studies of one patient, organ by organ: registration, alignment quality, volume and
HU changes, and signed surface distances (follow-up against base).

Everything here works on in-memory volumes (:func:`compare_volumes`); reading the studies'
files and writing the results atomically is :func:`iris3d.pipeline.compare_studies`'s job.
"""

from iris3d.compare.alignment import Alignment, StructureAlignment, assess_alignment
from iris3d.compare.comparison import Comparison, compare_volumes
from iris3d.compare.distance import DistanceSummary, signed_distance_field, surface_signed_distance
from iris3d.compare.errors import ComparisonError, EmptyStudyError, NoCommonStructuresError
from iris3d.compare.landmarks import Initialisation, rigid_fit
from iris3d.compare.measure import StructureMeasure, measure_structures
from iris3d.compare.register import Registration, register_studies
from iris3d.compare.table import StructureChange
from iris3d.compare.writers import (
    comparison_document,
    write_comparison_csv,
    write_comparison_glb,
    write_comparison_json,
)

__all__ = [
    "Alignment",
    "Comparison",
    "ComparisonError",
    "DistanceSummary",
    "EmptyStudyError",
    "Initialisation",
    "NoCommonStructuresError",
    "Registration",
    "StructureAlignment",
    "StructureChange",
    "StructureMeasure",
    "assess_alignment",
    "compare_volumes",
    "comparison_document",
    "measure_structures",
    "register_studies",
    "rigid_fit",
    "signed_distance_field",
    "surface_signed_distance",
    "write_comparison_csv",
    "write_comparison_glb",
    "write_comparison_json",
]
