"""What can go wrong when comparing two studies."""

from __future__ import annotations

from iris3d.errors import IrisError


class ComparisonError(IrisError):
    """The two studies could not be compared."""


class NoCommonStructuresError(ComparisonError):
    """The two studies share no labelled structure: they cannot be compared organ by organ."""


class EmptyStudyError(ComparisonError):
    """A study has no labelled structure: segment it before comparing."""
