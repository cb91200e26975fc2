"""``iris backup`` and ``iris restore``: the service's database and stored files, in one archive.

Output gives counts only: never a patient's name, an email address or a file's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iris3d.cli.common import console, error_console, friendly_errors
from iris3d.settings import get_settings

if TYPE_CHECKING:
    from iris3d.store.blobs import BlobStore
    from iris3d.store.database import Database


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


@friendly_errors
def backup_command(
    out: Annotated[
        Path, typer.Argument(help="The archive to write: NAME.tar, or NAME.tar.gz to compress.")
    ],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT if it exists.")
    ] = False,
) -> None:
    """Back up the database and every stored file into one archive (the service may run)."""
    from iris3d.store.backup import write_backup

    with _stores() as (database, blobs):
        report = write_backup(database, blobs, out, overwrite=overwrite, progress=_progress)
    manifest = report.manifest
    console().print(
        f"backed up {len(manifest.tables)} tables ({manifest.rows} rows) and "
        f"{len(manifest.blobs)} files ({_size(manifest.blob_bytes)}) at schema revision "
        f"{manifest.schema_revision} to {report.path} in {report.seconds:.1f} s"
    )
    if manifest.vanished:
        error_console().print(
            f"note: {len(manifest.vanished)} files named by the database were deleted before "
            "they could be copied (their study or job was deleted meanwhile); the backup lists "
            "them in its manifest"
        )


@friendly_errors
def restore_command(
    backup: Annotated[Path, typer.Argument(help="An archive made by `iris backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace everything in a database that already holds data."),
    ] = False,
) -> None:
    """Restore a backup into the database and storage the settings name (stop the service)."""
    from iris3d.store.restore import restore_backup

    with _stores() as (database, blobs):
        report = restore_backup(database, blobs, backup, force=force, progress=_progress)
    manifest = report.manifest
    out = console()
    out.print(
        f"restored {len(manifest.tables)} tables ({manifest.rows} rows) and "
        f"{len(manifest.blobs)} files ({_size(manifest.blob_bytes)}) from a backup made "
        f"{manifest.created_at:%Y-%m-%d %H:%M} UTC by Iris {manifest.iris_version}, "
        f"in {report.seconds:.1f} s"
    )
    out.print(
        "verified: every file's SHA-256 and size and every table's rows match the backup's "
        f"manifest; the database is at schema revision {report.revision}"
    )
    if report.replaced_rows:
        out.print(f"--force: the {report.replaced_rows} rows the database held were replaced")
    if manifest.vanished:
        out.print(
            f"note: {len(manifest.vanished)} files named by the database were missing from the "
            "backup (deleted while it was taken)"
        )
    if report.other_files:
        out.print(
            f"note: {report.other_files} files already in the storage are not in the backup; "
            "they were left in place"
        )


@contextmanager
def _stores() -> Iterator[tuple[Database, BlobStore]]:
    """The database and blob store the settings name (imported late: `iris --help` stays fast)."""
    from iris3d.store.blobs import open_blob_store
    from iris3d.store.database import database_url, open_database

    settings = get_settings()
    database = open_database(database_url(settings))
    try:
        yield database, open_blob_store(settings)
    finally:
        database.dispose()


def _progress(message: str) -> None:
    error_console().print(f"[dim]{message}…[/]", markup=True)


def _size(size: int) -> str:
    value, unit = float(size), "bytes"
    for larger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
