"""How work reports how far it is: one protocol for every step, and the stages it adds up to.

Every piece of work (an engine segmenting, meshes being built, a registration) takes a
:class:`Progress` and calls it with the fraction of *its own* work done and a short message;
it never needs to know what part of a larger job it is. The caller decides that:
:func:`within` maps a piece onto a sub-range of its own progress, :func:`for_stage` onto one
stage of a study or comparison. A :class:`StageProgress` receives the stages (the CLI draws a
bar per stage, a worker saves them in the job's row), and a :class:`StagePlan` turns a stage's
fraction into the whole job's, the one weighted sum the API's percentage comes from.

Any of them may raise to cancel the work: the pipeline writes its results atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from iris3d.contracts.names import Stage


class Progress(Protocol):
    """Told ``fraction`` (0 to 1) of this piece of work is done, and what it is doing now."""

    def __call__(self, fraction: float, message: str) -> None: ...


class StageProgress(Protocol):
    """Told ``fraction`` (0 to 1) of ``stage`` is done: a study's or comparison's progress."""

    def __call__(self, stage: Stage, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """A :class:`Progress` that drops everything."""


def no_stage_progress(stage: Stage, fraction: float, message: str) -> None:
    """A :class:`StageProgress` that drops everything."""


def within(progress: Progress, start: float, end: float, prefix: str = "") -> Progress:
    """``progress`` for a part of the work that spans ``start`` to ``end`` of it: the part's
    0 to 1 is mapped there, and its messages follow ``prefix`` (when given)."""

    def report(fraction: float, message: str) -> None:
        clamped = min(max(fraction, 0.0), 1.0)
        progress(start + (end - start) * clamped, f"{prefix} {message}" if prefix else message)

    return report


def for_stage(progress: StageProgress, stage: Stage) -> Progress:
    """The :class:`Progress` of one stage."""

    def report(fraction: float, message: str) -> None:
        progress(stage, fraction, message)

    return report


def counted(progress: Progress, done: int, total: int) -> None:
    """Report ``done`` of ``total`` items (structures, tiles) as a fraction and ``"done/total"``."""
    progress(done / total if total > 0 else 1.0, f"{done}/{total}")


@dataclass(frozen=True)
class StagePlan:
    """The stages a kind of job runs, in order, each with its usual share of the job's time."""

    weights: tuple[tuple[Stage, float], ...]

    def __post_init__(self) -> None:
        if abs(sum(w for _, w in self.weights) - 1.0) > 1e-9:
            raise ValueError("a plan's stage weights must add up to 1")

    @property
    def stages(self) -> tuple[Stage, ...]:
        return tuple(stage for stage, _ in self.weights)

    def overall(self, stage: Stage, fraction: float) -> float:
        """The whole job's completed fraction when ``stage`` is ``fraction`` done (a stage
        outside the plan counts as the end)."""
        done = 0.0
        for s, weight in self.weights:
            if s is stage:
                return done + weight * min(max(fraction, 0.0), 1.0)
            done += weight
        return done
