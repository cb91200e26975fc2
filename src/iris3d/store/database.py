"""The database seam: one SQLAlchemy engine chosen by URL (SQLite by default, or PostgreSQL).

Only this module knows about dialects; repository functions take a :class:`Session` and stay
portable.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from iris3d.settings import Settings

# SQLite waits this long for another process's write lock instead of failing at once.
_SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any fixed number: PostgreSQL advisory locks are named by integers.
_MIGRATION_LOCK_ID = 7_301_917


def database_url(settings: Settings) -> str:
    """The configured URL, or SQLite in the data folder."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / 'iris.db').absolute()}"


@dataclass(frozen=True)
class Database:
    engine: Engine
    writers: sessionmaker[Session]
    readers: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for work that writes: committed on success, rolled back on error."""
        with self.writers() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reading only; on SQLite it never waits for writers."""
        # Closing (not rolling back) ends the transaction and keeps loaded rows readable.
        with self.readers() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    """An engine for ``url``; for SQLite the folder is created and WAL switched on."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() != "sqlite":
        kwargs["pool_pre_ping"] = True  # a server may drop idle connections; a file cannot
        # Small pools: many API and worker processes share one server's connection limit.
        kwargs["pool_size"] = 5
        kwargs["max_overflow"] = 5
    else:
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
    writer = engine.execution_options(iris_writes=True)
    return Database(
        engine,
        writers=sessionmaker(writer, expire_on_commit=False),
        readers=sessionmaker(engine, expire_on_commit=False),
    )


def lock_migrations(connection: Connection) -> None:
    """Make processes that migrate at the same time run one after the other (inside the
    migration's transaction). SQLite's writer transaction already holds its write lock."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; foreign keys make deletes cascade.
    # pysqlite's own transaction handling is switched off so that "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # Setting the journal mode answers "database is locked" at once, without waiting for the
    # busy timeout, while another process holds the file exclusively (a migration copying a
    # table, or the last connection checkpointing): so wait here.
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _begin(connection: Any) -> None:
    # In WAL mode a deferred transaction that reads and then writes fails at once with "database
    # is locked" when another process wrote in between; writers take the lock up front and wait.
    writes = connection.get_execution_options().get("iris_writes", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
