"""How a study's processing reports progress: stage by stage, each with its own fraction."""

from __future__ import annotations

from typing import Protocol

from iris3d.contracts import Stage

# Share of the whole job each stage usually takes (measured on CPU with the tissue engine and
# the fast TotalSegmentator model); used to turn stage progress into one overall percentage.
# Only comparisons use REGISTER and COMPARE (weight 0 for a study; a comparison's overall
# percentage is iris3d.pipeline.compare.comparison_fraction).
STAGE_WEIGHTS: dict[Stage, float] = {
    Stage.INGEST: 0.05,
    Stage.SEGMENT: 0.60,
    Stage.MESH: 0.20,
    Stage.EXPORT: 0.10,
    Stage.STATS: 0.05,
    Stage.REGISTER: 0.0,
    Stage.COMPARE: 0.0,
}


class ProgressSink(Protocol):
    """Receives progress; the CLI draws bars from it, the job runner stores it for the API."""

    def __call__(self, stage: Stage, fraction: float, message: str) -> None: ...


def ignore_progress(stage: Stage, fraction: float, message: str) -> None:
    """A :class:`ProgressSink` that drops everything."""


def overall_fraction(stage: Stage, fraction: float) -> float:
    """The whole job's completed fraction when ``stage`` is ``fraction`` done."""
    done = 0.0
    for s in Stage:
        if s is stage:
            return done + STAGE_WEIGHTS[s] * min(max(fraction, 0.0), 1.0)
        done += STAGE_WEIGHTS[s]
    return done
