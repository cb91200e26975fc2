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
    """Let an account list every user and job, disable accounts, set quotas and make invite
    codes (or stop it). The only way to make an administrator."""
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


@db_app.command("invite")
@friendly_errors
def invite(
    days: Annotated[int, typer.Option(min=1, max=90, help="Days the code stays valid.")] = 7,
) -> None:
    """Print a one-use sign-up code (for IRIS_SIGNUP_MODE=invite, e.g. the first account)."""
    from datetime import timedelta

    from iris3d.api.security import new_token, token_hash
    from iris3d.store import users
    from iris3d.store.database import database_url, open_database
    from iris3d.store.migrate import upgrade
    from iris3d.store.models import utcnow

    database = open_database(database_url(get_settings()))
    code = new_token()
    try:
        upgrade(database)
        with database.session() as session:
            users.add_invite(session, token_hash(code), None, utcnow() + timedelta(days=days))
    finally:
        database.dispose()
    typer.echo(code)
