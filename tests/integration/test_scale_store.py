"""The database layer on PostgreSQL: the same migrations as SQLite, the queue's tests run again,
and claims stay atomic with many workers racing (separate engines, like separate machines)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from tests.support.scale import postgres_database
from tests.unit import test_store_queue as on_sqlite

from iris3d.store import queue
from iris3d.store.database import Database, open_database
from iris3d.store.migrate import alembic_config, current_revision, is_current, upgrade
from iris3d.store.models import Base


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = open_database(pg_url)
    upgrade(database)
    yield database
    database.dispose()


# The SQLite queue tests, collected again here so that they use the PostgreSQL ``db`` above.
test_jobs_are_claimed_oldest_first_and_once = on_sqlite.test_jobs_are_claimed_oldest_first_and_once
test_progress_and_heartbeat_need_the_current_lease = (
    on_sqlite.test_progress_and_heartbeat_need_the_current_lease
)
test_abandoned_jobs_are_retried_then_failed = on_sqlite.test_abandoned_jobs_are_retried_then_failed
test_live_jobs_are_not_requeued = on_sqlite.test_live_jobs_are_not_requeued
test_cancel_queued_is_immediate_and_running_asks_the_worker = (
    on_sqlite.test_cancel_queued_is_immediate_and_running_asks_the_worker
)
test_retry_requeues_failed_jobs_with_fresh_attempts = (
    on_sqlite.test_retry_requeues_failed_jobs_with_fresh_attempts
)
test_release_gives_the_job_back_without_spending_an_attempt = (
    on_sqlite.test_release_gives_the_job_back_without_spending_an_attempt
)
test_queue_position_counts_jobs_ahead = on_sqlite.test_queue_position_counts_jobs_ahead
test_deleting_a_study_removes_its_jobs_and_voids_the_claim = (
    on_sqlite.test_deleting_a_study_removes_its_jobs_and_voids_the_claim
)
test_histogram_counters_add_up = on_sqlite.test_histogram_counters_add_up
test_workers_are_counted_by_heartbeat = on_sqlite.test_workers_are_counted_by_heartbeat


def test_migrations_match_the_models_and_go_down_and_up(pg_url: str) -> None:
    db = open_database(pg_url)
    assert current_revision(db) is None
    upgrade(db)
    assert is_current(db)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    command.downgrade(alembic_config(db), "base")
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    upgrade(db)
    assert is_current(db)
    db.dispose()


def test_processes_starting_together_upgrade_one_after_the_other(pg_url: str) -> None:
    code = (
        "import sys; from iris3d.store.database import open_database; "
        "from iris3d.store.migrate import upgrade; upgrade(open_database(sys.argv[1]))"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code, pg_url]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0]
    db = open_database(pg_url)
    assert is_current(db)
    db.dispose()


def test_racing_workers_and_duplicate_deliveries_claim_each_job_once(
    db: Database, pg_url: str
) -> None:
    jobs = on_sqlite._jobs(db, on_sqlite._study(db), 40)
    claimed: list[str] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        own = open_database(pg_url)
        # Half claim the oldest job; half claim by id, as a Celery task (maybe delivered twice).
        for job in jobs if name.startswith("celery") else [None] * len(jobs):
            with own.session() as session:
                if job is None:
                    claim = queue.claim_next(session, name)
                else:
                    claim = queue.claim_job(session, job.id, name)
            if claim is not None:
                with lock:
                    claimed.append(claim.job_id)
        own.dispose()

    names = [f"poller{i}" for i in range(3)] + [f"celery{i}" for i in range(3)]
    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(j.id for j in jobs)
    with db.session() as session:
        assert queue.claim_job(session, jobs[0].id, "late") is None
        assert queue.job_state(session, jobs[0].id) == "running"
