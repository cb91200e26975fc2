"""The ``totalsegmentator`` engine, its weights on disk, and how they are installed.

Importing this package is cheap (no torch): ``auto`` asks :func:`is_installed` for a quality level
and constructs :class:`TotalSegmentatorEngine` only then; torch and nnU-Net load on first use.
"""

from iris3d.segment.totalseg.engine import TotalSegmentatorEngine
from iris3d.segment.totalseg.weights import (
    WeightsMissingError,
    installed_qualities,
    is_installed,
    model_spec,
    weights_dir,
)

__all__ = [
    "TotalSegmentatorEngine",
    "WeightsMissingError",
    "installed_qualities",
    "is_installed",
    "model_spec",
    "weights_dir",
]
