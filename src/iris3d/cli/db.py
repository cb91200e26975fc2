"""``iris db``: the service's database schema and accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from iris3d.cli.common import console, friendly_errors
from iris3d.errors import IrisError
from iris3d.settings import get_settings

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@friendly_errors
def upgrade_command() -> None:
    """Create or migrate the database to the current schema (the server also does this)."""
    from iris3d.store.database import database_url, open_database
    from iris3d.store.migrate import current_revision, upgrade

    database = open_database(database_url(get_settings()))
    try:
        upgrade(database)
        console().print(f"database at revision {current_revision(database)}")
    finally:
        database.dispose()


@db_app.command("make-admin")
@friendly_errors
def make_admin(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    revoke: Annotated[bool, typer.Option(help="Take the admin right away instead.")] = False,
) -> None:
    """Let an account list every user and job (or stop it)."""
    from iris3d.store import users
    from iris3d.store.database import database_url, open_database
    from iris3d.store.migrate import upgrade

    database = open_database(database_url(get_settings()))
    try:
        upgrade(database)
        with database.session() as session:
            user = users.user_by_email(session, email)
            if user is None:
                raise IrisError(f"no account with the email {email}")
            users.set_admin(session, user, not revoke)
    finally:
        database.dispose()
    console().print(f"{email} is {'no longer ' if revoke else ''}an administrator")
