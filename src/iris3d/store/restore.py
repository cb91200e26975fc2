"""Restore a backup (:mod:`.backup`) into the database and blob store the settings name, whichever
backends the backup came from.

Nothing is kept unless the whole archive arrives and checks out: the files go up first (those that
were not in the store already are removed again if anything fails), then every row goes in, after
any rows a ``force`` restore replaces are removed, in one transaction.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, MetaData, Table, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from iris3d.store.backup_format import (
    BATCH,
    BLOBS,
    HEADER,
    MANIFEST,
    SHA256_PAX,
    TABLES,
    BackupError,
    BlobEntry,
    HashingReader,
    Manifest,
    StepLog,
    decode_row,
)
from iris3d.store.blobs import BlobError, BlobStore, check_key
from iris3d.store.database import Database
from iris3d.store.migrate import current_revision, known_revisions, migrate_to, upgrade

# The header describes columns only; a larger one is not ours.
_HEADER_LIMIT = 16 * 1024 * 1024
# What reading a truncated or corrupted archive raises (tarfile leaves gzip's and zlib's own).
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


class TargetNotEmptyError(BackupError):
    """The target database already holds data."""


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    replaced_rows: int  # the rows the target held before (a ``force`` restore)
    other_files: int  # files the target store held that the backup does not have: left there
    revision: str | None  # the schema revision after the restore
    seconds: float


def restore_backup(
    database: Database,
    blobs: BlobStore,
    source: Path,
    *,
    force: bool = False,
    progress: StepLog = lambda _message: None,
) -> RestoreReport:
    """Put the backup ``source`` into ``database`` and ``blobs``; refuse a database that holds
    data unless ``force``, which replaces everything in it."""
    started = time.monotonic()
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    target = current_revision(database)
    if target is not None and target not in known_revisions():
        raise BackupError(
            f"the target database is at schema revision {target}, which this Iris does not know "
            "(a newer Iris migrated it): restore with that version"
        )
    with _archive(source) as (tar, members):
        header = _read_header(tar, members, source)
        if header.schema_revision not in known_revisions():
            raise BackupError(
                f"{source} was made at schema revision {header.schema_revision}, which this Iris "
                f"(newest revision {known_revisions()[-1]}) does not know: restore it with the "
                f"Iris version that made it ({header.iris_version}) or a newer one"
            )
        held = _held_rows(database) if target is not None else 0
        if held and not force:
            raise TargetNotEmptyError(_not_empty(held))
        if held:
            progress(f"--force: the {held} rows in the target database will be replaced")
        before = {info.key for info in blobs.list_blobs()}
        uploaded: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="iris-restore-") as tmp:
                work = Path(tmp)
                manifest, spools = _receive(tar, members, header, blobs, work, uploaded, source)
                progress(f"writing {manifest.rows} rows")
                migrate_to(database, manifest.schema_revision)
                replaced = _load_rows(database, manifest, spools, force=force)
        except BaseException:
            if uploaded:
                progress("removing the files this restore stored")
            for key in uploaded:
                if key not in before:
                    # Unreachable without a row if this fails: the error at hand matters more.
                    with suppress(BlobError):
                        blobs.delete(key)
            raise
    upgrade(database)  # a backup of an older schema is migrated like the service would be
    return RestoreReport(
        manifest=manifest,
        replaced_rows=replaced,
        other_files=len(before - {blob.key for blob in manifest.blobs}),
        revision=current_revision(database),
        seconds=time.monotonic() - started,
    )


@contextmanager
def _archive(source: Path) -> Iterator[tuple[tarfile.TarFile, Iterator[tarfile.TarInfo]]]:
    """The archive read once, front to back (a .tar.gz cannot seek); unreadable: BackupError."""
    try:
        handle = source.open("rb")
    except OSError as e:
        raise BackupError(f"could not read {source}: {e.strerror or e}") from e
    with handle, _open_tar(handle, source) as tar:
        yield tar, _members(tar, source)


def _open_tar(handle: IO[bytes], source: Path) -> tarfile.TarFile:
    try:  # this reads the first member's header
        return tarfile.open(fileobj=handle, mode="r|*")
    except _READ_ERRORS as e:
        raise BackupError(f"{source} is not an Iris backup (not a tar archive: {e})") from e


def _members(tar: tarfile.TarFile, source: Path) -> Iterator[tarfile.TarInfo]:
    with _damaged(source):
        while (member := tar.next()) is not None:
            if not member.isfile():
                raise BackupError(f"{source} is not an Iris backup (it holds more than files)")
            yield member


@contextmanager
def _damaged(source: Path) -> Iterator[None]:
    """Reading errors after the start: a truncated or corrupted file."""
    try:
        yield
    except _READ_ERRORS as e:
        raise BackupError(f"{source} is damaged or truncated ({e}): nothing was restored") from e


def _read_header(
    tar: tarfile.TarFile, members: Iterator[tarfile.TarInfo], source: Path
) -> Manifest:
    first = next(members, None)
    if first is None or first.name != HEADER or first.size > _HEADER_LIMIT:
        raise BackupError(f"{source} is not an Iris backup (it does not start with {HEADER})")
    with _damaged(source):
        return Manifest.from_json(_read_all(tar, first), str(source))


def _read_all(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    assert handle is not None  # members are files
    return handle.read()


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> str:
    """Write a member to ``path``; its SHA-256."""
    handle = tar.extractfile(member)
    assert handle is not None
    reader = HashingReader(handle)
    with path.open("wb") as out:
        shutil.copyfileobj(reader, out)
    return reader.hexdigest()


def _receive(
    tar: tarfile.TarFile,
    members: Iterator[tarfile.TarInfo],
    header: Manifest,
    blobs: BlobStore,
    work: Path,
    uploaded: list[str],
    source: Path,
) -> tuple[Manifest, dict[str, tuple[Path, str]]]:
    """Read the rest: rows to local files, files up to the store; then check everything against
    the manifest at the end."""
    tables = {table.name for table in header.tables}
    spools: dict[str, tuple[Path, str]] = {}
    stored: dict[str, BlobEntry] = {}
    manifest: Manifest | None = None
    with _damaged(source):
        for member in members:
            name, table = member.name, _table_of(member.name)
            if manifest is not None:
                raise BackupError(f"{source} is not an Iris backup (files after its manifest)")
            if name == MANIFEST:
                manifest = Manifest.from_json(_read_all(tar, member), str(source))
            elif table is not None and table in tables - spools.keys():
                path = work / f"{len(spools)}.jsonl"
                spools[table] = (path, _extract(tar, member, path))
            elif name.startswith(BLOBS):
                key = _key(name.removeprefix(BLOBS), source)
                path = work / "blob"
                digest = _extract(tar, member, path)
                if digest != member.pax_headers.get(SHA256_PAX):  # before it replaces anything
                    raise BackupError(
                        f"{source} is damaged: a stored file's bytes differ from its checksum: "
                        "nothing was restored"
                    )
                info = blobs.put_file(key, path)
                uploaded.append(key)
                stored[key] = BlobEntry(key, info.size, digest)
                path.unlink()
            else:
                raise BackupError(f"{source} is not an Iris backup (it holds {name[:80]!r})")
    if manifest is None:
        raise BackupError(
            f"{source} is truncated (it ends before its manifest): nothing was restored"
        )
    _check(header, manifest, spools, stored, source)
    return manifest, spools


def _table_of(name: str) -> str | None:
    """The table whose rows a member holds, from its name ``tables/<name>.jsonl``."""
    if name.startswith(TABLES) and name.endswith(".jsonl"):
        return name.removeprefix(TABLES).removesuffix(".jsonl")
    return None


def _key(key: str, source: Path) -> str:
    try:
        return check_key(key)
    except BlobError as e:
        raise BackupError(f"{source} is not an Iris backup ({e})") from e


def _check(
    header: Manifest,
    manifest: Manifest,
    spools: dict[str, tuple[Path, str]],
    stored: dict[str, BlobEntry],
    source: Path,
) -> None:
    """What arrived is what the manifest says was sent, byte for byte."""
    same = (header.schema_revision, header.created_at, [(t.name, t.columns) for t in header.tables])
    if same != (
        manifest.schema_revision,
        manifest.created_at,
        [(t.name, t.columns) for t in manifest.tables],
    ):
        raise BackupError(f"{source} is damaged: its manifest does not match its header")
    tables = {table.name: table.sha256 for table in manifest.tables}
    if {name: digest for name, (_path, digest) in spools.items()} != tables:
        raise BackupError(f"{source} is damaged: its tables differ from its manifest")
    differ = set(stored.items()) ^ {(blob.key, blob) for blob in manifest.blobs}
    if differ:
        files = len({key for key, _entry in differ})
        raise BackupError(f"{source} is damaged: {files} stored files differ from its manifest")


def _load_rows(
    database: Database, manifest: Manifest, spools: dict[str, tuple[Path, str]], *, force: bool
) -> int:
    """Insert every row in one transaction, after removing what the target held (``force``);
    the number of rows removed."""
    with database.session() as session:
        connection = session.connection()
        target = MetaData()
        target.reflect(connection)
        held = _count_rows(connection, target)
        if held and not force:  # written meanwhile
            raise TargetNotEmptyError(_not_empty(held))
        tables = _data_tables(target)
        for table in reversed(tables):
            connection.execute(delete(table))
        for entry in manifest.tables:
            table = next((t for t in tables if t.name == entry.name), None)
            if table is None or set(table.columns.keys()) != set(entry.columns):
                raise BackupError(
                    f"the target's table {entry.name} does not match schema revision "
                    f"{manifest.schema_revision}"
                )
            path, _digest = spools[entry.name]
            with path.open("rb") as rows:
                try:
                    _insert(connection, table, rows, entry.columns)
                except DBAPIError as e:  # its text may quote a row: an email, a study's name
                    raise BackupError(
                        f"the database refused the rows of {entry.name} ({type(e.orig).__name__})"
                    ) from None
            count = connection.scalar(select(func.count()).select_from(table))
            if count != entry.rows:
                raise BackupError(f"{entry.name}: {count} rows restored of {entry.rows}")
    return held


def _insert(connection: Connection, table: Table, rows: IO[bytes], columns: dict[str, str]) -> None:
    batch = []
    for number, line in enumerate(rows, start=1):
        try:
            batch.append(decode_row(json.loads(line), columns))
        except ValueError as e:
            raise BackupError(f"{table.name}, row {number}: {e}") from e
        if len(batch) == BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)


def _held_rows(database: Database) -> int:
    with database.engine.connect() as connection:
        target = MetaData()
        target.reflect(connection)
        return _count_rows(connection, target)


def _count_rows(connection: Connection, target: MetaData) -> int:
    return sum(
        connection.scalar(select(func.count()).select_from(table)) or 0
        for table in _data_tables(target)
    )


def _data_tables(target: MetaData) -> list[Table]:
    return [table for table in target.sorted_tables if table.name != "alembic_version"]


def _not_empty(held: int) -> str:
    return (
        f"the target database already holds data ({held} rows): restore into an empty database, "
        "or pass --force to replace everything in it"
    )
