"""Alembic migrations from an empty database match the models, and run safely twice at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from iris3d.settings import Settings
from iris3d.store.database import database_url, open_database
from iris3d.store.migrate import current_revision, head_revision, is_current, upgrade
from iris3d.store.models import Base


def test_upgrade_from_empty_matches_the_models(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'iris.db'}")
    assert current_revision(db) is None
    upgrade(db)
    assert is_current(db) and current_revision(db) == head_revision()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "auth_tokens", "studies", "uploads", "jobs", "workers", "counters"} <= tables


def test_downgrade_to_empty_and_back(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'iris.db'}")
    upgrade(db)
    from alembic import command

    from iris3d.store.migrate import alembic_config

    command.downgrade(alembic_config(db), "base")
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    upgrade(db)
    assert is_current(db)


@pytest.mark.slow
def test_processes_starting_together_both_upgrade_safely(tmp_path: Path) -> None:
    # The API and each worker migrate at start-up; the second to get the lock finds no work.
    url = f"sqlite:///{tmp_path / 'iris.db'}"
    code = (
        "import sys; from iris3d.store.database import open_database; "
        "from iris3d.store.migrate import upgrade; upgrade(open_database(sys.argv[1]))"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code, url]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0]
    assert is_current(open_database(url))


def test_sqlite_runs_in_wal_mode_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert database_url(settings) == f"sqlite:///{tmp_path / 'data' / 'iris.db'}"
    db = open_database(database_url(settings))
    with db.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    assert (mode, keys) == ("wal", 1)


def test_jobs_from_before_comparisons_keep_their_rows_as_study_jobs(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'iris.db'}")
    upgrade(db, "0001")
    now = "2026-11-28 10:00:00+00:00"
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users VALUES ('u1', 'a@example.org', 'h', 0, ?)", (now,)
        )
        connection.exec_driver_sql(
            "INSERT INTO studies (id, owner_id, name, labels, source_key, source_format, "
            "source_bytes, study_metadata, series, shape, spacing_mm, voxels, created_at, "
            "updated_at, revision) VALUES ('s1', 'u1', 'ct', '[]', 'k', 'nifti', 1, '{}', '[]', "
            "'[1,1,1]', '[1,1,1]', 1, ?, ?, 1)",
            (now, now),
        )
        connection.exec_driver_sql(
            "INSERT INTO jobs (id, owner_id, study_id, quality, engine, voxels, state, progress, "
            "message, cancel_requested, attempts, max_attempts, artifacts, timings, created_at, "
            "updated_at, revision) VALUES ('j1', 'u1', 's1', 'fast', 'tissue', 1, 'done', 1.0, "
            "'done', 0, 1, 3, '{}', '{}', ?, ?, 1)",
            (now, now),
        )
    upgrade(db)
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT kind, follow_study_id, inputs FROM jobs WHERE id = 'j1'"
        ).one()
    assert tuple(row) == ("study", None, "{}")
