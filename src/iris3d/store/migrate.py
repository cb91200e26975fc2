"""Alembic migrations, run from code: at start-up by the API and workers, and by ``iris db``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from iris3d.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database"] = database
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; several processes may call this at once."""
    command.upgrade(alembic_config(database), revision)


def migrate_to(database: Database, revision: str) -> None:
    """Bring the schema up or down to ``revision`` (a restore puts rows back at the revision
    they were saved at)."""
    current = current_revision(database)
    if current == revision:
        return
    earlier = {script.revision for script in _scripts().iterate_revisions(revision, "base")}
    if current is None or current in earlier:
        command.upgrade(alembic_config(database), revision)
    else:
        command.downgrade(alembic_config(database), revision)


def head_revision() -> str | None:
    return _scripts().get_current_head()


def known_revisions() -> list[str]:
    """Every revision this Iris can migrate to, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(database: Database) -> bool:
    return current_revision(database) == head_revision()
