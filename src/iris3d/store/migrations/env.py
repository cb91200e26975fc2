"""Alembic's entry point; the database comes from :func:`iris3d.store.migrate.upgrade`."""

from __future__ import annotations

from alembic import context

from iris3d.store.database import Database, lock_migrations
from iris3d.store.models import Base

database = context.config.attributes.get("database")
if not isinstance(database, Database):
    raise RuntimeError("run migrations with `iris db upgrade`, not the alembic command")

# The writer engine takes SQLite's write lock at BEGIN, so two processes upgrading at the same
# time run one after the other and the second finds nothing to do; PostgreSQL takes a lock.
with database.writers.kw["bind"].connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # SQLite runs DDL in transactions too; without this Alembic commits after each step,
        # letting a second process in between with a stale idea of the current revision.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        lock_migrations(connection)  # before Alembic reads the current revision
        context.run_migrations()
