"""The job queue on a real SQLite file: claims, leases, heartbeats, requeue, cancel, retry."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from iris3d.store import counters, queue, studies, users
from iris3d.store import jobs as job_rows
from iris3d.store.database import Database, open_database
from iris3d.store.migrate import upgrade
from iris3d.store.models import Job, Study, utcnow


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'iris.db'}")
    upgrade(database)
    return database


def _study(db: Database, email: str = "a@example.org") -> Study:
    with db.session() as session:
        user = users.create_user(session, email, "hash", is_admin=False)
        return studies.add_study(
            session,
            study_id=f"s{user.id[:8]}",
            owner_id=user.id,
            name="phantom",
            source_key="studies/x/source/study.nii.gz",
            source_format="nifti",
            source_bytes=10,
            metadata={},
            series=[],
            shape=(10, 10, 10),
            spacing_mm=(1.0, 1.0, 1.0),
        )


def _jobs(db: Database, study: Study, n: int, max_attempts: int = 3) -> list[Job]:
    with db.session() as session:
        return [
            job_rows.add_job(
                session,
                study,
                quality="fast",
                engine="tissue",
                series_uid=None,
                max_attempts=max_attempts,
            )
            for _ in range(n)
        ]


def _claim(db: Database, worker: str = "w1") -> queue.Claim | None:
    with db.session() as session:
        return queue.claim_next(session, worker)


def _state(db: Database, job_id: str) -> Job:
    with db.reader() as session:
        job = job_rows.job_by_id(session, job_id)
    assert job is not None
    return job


def test_jobs_are_claimed_oldest_first_and_once(db: Database) -> None:
    jobs = _jobs(db, _study(db), 3)
    claims = [_claim(db), _claim(db), _claim(db), _claim(db)]
    assert [c.job_id for c in claims if c] == [j.id for j in jobs]
    assert claims[3] is None
    assert all(c is not None and c.attempt == 1 for c in claims[:3])


def test_concurrent_workers_never_claim_the_same_job(db: Database, tmp_path: Path) -> None:
    _jobs(db, _study(db), 40)
    claimed: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        # Each thread its own engine and connections, like separate processes.
        own = open_database(f"sqlite:///{tmp_path / 'iris.db'}")
        while (claim := _claim(own, name)) is not None:
            with lock:
                claimed.append(claim.job_id)
        own.dispose()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 40
    assert len(set(claimed)) == 40


def test_progress_and_heartbeat_need_the_current_lease(db: Database) -> None:
    (job,) = _jobs(db, _study(db), 1)
    claim = _claim(db)
    assert claim is not None
    with db.session() as session:
        assert queue.save_progress(session, claim, "segment", 0.4, "segmenting").held
    assert _state(db, job.id).stage == "segment"
    # The job is requeued (its worker looked dead) and claimed again by someone else.
    with db.session() as session:
        assert queue.requeue_stale(session, utcnow() + timedelta(seconds=1)) == {job.id: "queued"}
    second = _claim(db, "w2")
    assert second is not None and second.attempt == 2
    with db.session() as session:
        assert not queue.heartbeat(session, claim).held
        assert not queue.finish_done(
            session,
            claim,
            artifacts={},
            engine_used="x",
            engine_reason="",
            timings={},
            duration_s=1.0,
        )
        assert queue.heartbeat(session, second).held
    assert _state(db, job.id).worker_id == "w2"


def test_abandoned_jobs_are_retried_then_failed(db: Database) -> None:
    (job,) = _jobs(db, _study(db), 1, max_attempts=2)
    later = utcnow() + timedelta(seconds=1)
    for expected in ("queued", "failed"):
        assert _claim(db) is not None
        with db.session() as session:
            assert queue.requeue_stale(session, later) == {job.id: expected}
    failed = _state(db, job.id)
    assert failed.state == "failed"
    assert failed.error is not None and "2 attempts" in failed.error


def test_live_jobs_are_not_requeued(db: Database) -> None:
    _jobs(db, _study(db), 1)
    assert _claim(db) is not None
    with db.session() as session:
        assert queue.requeue_stale(session, utcnow() - timedelta(seconds=30)) == {}


def test_cancel_queued_is_immediate_and_running_asks_the_worker(db: Database) -> None:
    first, second = _jobs(db, _study(db), 2)
    claim = _claim(db)
    assert claim is not None and claim.job_id == first.id
    with db.session() as session:
        cancelled = job_rows.request_cancel(session, second.id)
        assert cancelled is not None and cancelled.state == "cancelled"
        running = job_rows.request_cancel(session, first.id)
    assert running is not None and running.state == "running" and running.cancel_requested
    with db.session() as session:
        lease = queue.heartbeat(session, claim)
        assert lease.held and lease.cancel_requested
        assert queue.finish_cancelled(session, claim)
    assert _state(db, first.id).state == "cancelled"


def test_retry_requeues_failed_jobs_with_fresh_attempts(db: Database) -> None:
    (job,) = _jobs(db, _study(db), 1)
    claim = _claim(db)
    assert claim is not None
    with db.session() as session:
        assert queue.finish_failed(session, claim, "boom")
        assert job_rows.requeue_finished(session, job.id, 3)
        assert not job_rows.requeue_finished(session, job.id, 3)  # already queued
    again = _state(db, job.id)
    assert (again.state, again.attempts, again.error) == ("queued", 0, None)


def test_release_gives_the_job_back_without_spending_an_attempt(db: Database) -> None:
    (job,) = _jobs(db, _study(db), 1)
    claim = _claim(db)
    assert claim is not None
    with db.session() as session:
        assert queue.release(session, claim)
    assert (_state(db, job.id).state, _state(db, job.id).attempts) == ("queued", 0)


def test_queue_position_counts_jobs_ahead(db: Database) -> None:
    jobs = _jobs(db, _study(db), 3)
    with db.reader() as session:
        assert [job_rows.queue_position(session, j) for j in jobs] == [0, 1, 2]
    assert _claim(db) is not None
    with db.reader() as session:
        fresh = job_rows.jobs_by_id(session, [j.id for j in jobs])
        positions = {j.id: job_rows.queue_position(session, j) for j in fresh}
    assert positions == {jobs[0].id: None, jobs[1].id: 0, jobs[2].id: 1}


def test_deleting_a_study_removes_its_jobs_and_voids_the_claim(db: Database) -> None:
    study = _study(db)
    (job,) = _jobs(db, study, 1)
    claim = _claim(db)
    assert claim is not None
    with db.session() as session:
        studies.remove_study(session, study.id)
    with db.session() as session:
        assert job_rows.job_by_id(session, job.id) is None
        assert not queue.save_progress(session, claim, "mesh", 0.5, "").held


def test_histogram_counters_add_up(db: Database) -> None:
    with db.session() as session:
        for value in (0.3, 4.0, 100.0):
            counters.observe(session, "h", "segment", value, (1.0, 10.0))
    with db.reader() as session:
        rows = counters.read(session, "h")
    assert rows[("h_bucket", "segment|1")] == 1
    assert rows[("h_bucket", "segment|10")] == 2
    assert rows[("h_bucket", "segment|+Inf")] == 3
    assert rows[("h_count", "segment")] == 3
    assert rows[("h_sum", "segment")] == pytest.approx(104.3)


def test_workers_are_counted_by_heartbeat(db: Database) -> None:
    with db.session() as session:
        queue.beat_worker(session, "w1", "host", 1, None)
        queue.beat_worker(session, "w1", "host", 1, "job")
        queue.beat_worker(session, "w2", "host", 2, None)
    with db.reader() as session:
        assert queue.live_workers(session, utcnow() - timedelta(seconds=5)) == 2
        assert queue.live_workers(session, utcnow() + timedelta(seconds=5)) == 0


def test_one_users_backlog_holds_at_most_one_worker_each_while_another_waits(
    db: Database,
) -> None:
    # Two workers; Ann queued ten jobs first, then Bob one: Bob's job is the next one taken as
    # soon as a worker frees up, not the eleventh.
    ann_jobs = _jobs(db, _study(db, "ann@example.org"), 10)
    running = [_claim(db, "w1"), _claim(db, "w2")]
    assert [c.job_id for c in running if c] == [j.id for j in ann_jobs[:2]]
    (bob_job,) = _jobs(db, _study(db, "bob@example.org"), 1)
    with db.session() as session:
        assert running[0] is not None and queue.finish_failed(session, running[0], "done")
    after = _claim(db, "w1")
    assert after is not None and after.job_id == bob_job.id
    with db.reader() as session:
        assert [row[0] for row in queue.fair_order(session)][:1] == [ann_jobs[2].id]
    # With nobody else waiting, Ann's backlog goes on in order.
    nxt = _claim(db, "w3")
    assert nxt is not None and nxt.job_id == ann_jobs[2].id


def test_claims_can_be_limited_to_the_jobs_a_worker_takes(db: Database) -> None:
    study = _study(db)
    with db.session() as session:
        gpu = job_rows.add_job(
            session,
            study,
            quality="fast",
            engine="totalsegmentator",
            series_uid=None,
            max_attempts=3,
        )
    _jobs(db, study, 1)
    with db.session() as session:
        claim = queue.claim_next(session, "cpu-worker", lambda engine, q: engine == "tissue")
    assert claim is not None and claim.engine == "tissue"
    with db.session() as session:
        assert queue.claim_next(session, "cpu", lambda engine, q: engine == "tissue") is None
        gpu_claim = queue.claim_next(session, "gpu")
    assert gpu_claim is not None and gpu_claim.job_id == gpu.id


def test_with_nothing_running_the_owner_served_longest_ago_goes_first(db: Database) -> None:
    ann_jobs = _jobs(db, _study(db, "ann@example.org"), 3)
    first = _claim(db)
    assert first is not None and first.job_id == ann_jobs[0].id
    with db.session() as session:
        assert queue.finish_failed(session, first, "done")
    (bob_job,) = _jobs(db, _study(db, "bob@example.org"), 1)
    nxt = _claim(db)
    assert nxt is not None and nxt.job_id == bob_job.id  # not Ann's older second job
