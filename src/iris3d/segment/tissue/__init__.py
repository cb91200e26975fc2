"""``tissue``: the built-in engine, from Hounsfield units and morphology (no model weights)."""

from iris3d.segment.tissue.engine import TissueEngine
from iris3d.segment.tissue.table import tissue_table

__all__ = ["TissueEngine", "tissue_table"]
