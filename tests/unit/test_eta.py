"""Time left for a running job: past jobs of its engine first, its own progress second."""

from __future__ import annotations

from datetime import timedelta

from iris3d.contracts import JobState
from iris3d.jobs.eta import estimate_duration, remaining_seconds
from iris3d.store.models import Job, utcnow


def _running(progress: float, elapsed_s: float) -> Job:
    started = utcnow() - timedelta(seconds=elapsed_s)
    return Job(state=JobState.RUNNING, progress=progress, started_at=started)


def test_a_quick_stage_early_does_not_make_the_rest_look_instant() -> None:
    # The tissue engine: "segment" (60 % of the weights) done after 2 s, 20 s jobs in the past.
    job = _running(progress=0.65, elapsed_s=2.0)
    left = remaining_seconds(job, estimate=20.0, now=utcnow())
    assert left is not None and 17.0 < left <= 18.0


def test_past_the_estimate_the_job_s_own_progress_says_how_long() -> None:
    job = _running(progress=0.5, elapsed_s=30.0)
    left = remaining_seconds(job, estimate=20.0, now=utcnow())
    assert left is not None and 29.0 < left <= 30.5
    assert remaining_seconds(_running(0.5, 30.0), estimate=None, now=utcnow()) is not None


def test_without_history_or_progress_nothing_is_promised() -> None:
    assert remaining_seconds(_running(progress=0.02, elapsed_s=1.0), None, utcnow()) is None
    assert estimate_duration([], voxels=1000) is None
    # Jobs four times larger or smaller do not set the rate when closer ones exist.
    assert estimate_duration([(1000, 10.0), (100_000, 5.0)], voxels=1000) == 10.0
