"""Back up the service, its database and its stored files together, into one archive (format
in :mod:`.backup_format`) that :mod:`.restore` puts back onto any backend: SQLite or PostgreSQL, a
folder or S3. The rows are read in one snapshot; the files are copied after it."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from iris3d import __version__
from iris3d.store.backup_format import (
    BATCH,
    BLOBS,
    HEADER,
    MANIFEST,
    SHA256_PAX,
    SKIPPED_TABLES,
    TABLES,
    BackupError,
    BlobEntry,
    HashingReader,
    Manifest,
    StepLog,
    TableEntry,
    column_kinds,
    encode_row,
    json_line,
)
from iris3d.store.blobs import BlobNotFoundError, BlobStore
from iris3d.store.database import Database
from iris3d.store.migrate import current_revision, head_revision, known_revisions
from iris3d.store.models import Base, utcnow

# Columns that name stored files, so that a backup can tell which of them vanished meanwhile.
_FILE_COLUMNS = {"studies": ("source_key", "segmentation_key")}
_ARTIFACT_COLUMNS = {"jobs": ("artifacts",)}  # {name: {"key": ..., ...}}


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest
    seconds: float = 0.0


def write_backup(
    database: Database,
    blobs: BlobStore,
    out: Path,
    *,
    overwrite: bool = False,
    progress: StepLog = lambda _message: None,
) -> BackupReport:
    """Write the rows of every table and every stored file to the archive ``out``, which appears
    whole (readable by its owner only) or not at all."""
    started = time.monotonic()
    out = Path(out).absolute()
    compress = _compressed(out)
    if out.exists() and not overwrite:
        raise BackupError(f"{out} exists: choose another name, or pass --overwrite")
    if not out.parent.is_dir():
        raise BackupError(f"the folder {out.parent} does not exist")
    tables = backed_up_tables()
    header = Manifest(
        iris_version=__version__,
        schema_revision=_source_revision(database),
        created_at=utcnow(),
        tables=tuple(TableEntry(table.name, column_kinds(table)) for table in tables),
    )
    mtime = header.created_at.timestamp()
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
            work = Path(tmp)
            partial = work / out.name  # the name gzip records inside
            with _open_tar(partial, compress) as tar:
                _add_bytes(tar, HEADER, header.to_json(), mtime)
                progress("reading the database (one snapshot)")
                entries, named = _dump_tables(database, tables, tar, work, mtime)
                files, vanished = _copy_blobs(blobs, named, tar, work, mtime, progress)
                manifest = replace(header, tables=entries, blobs=files, vanished=vanished)
                _add_bytes(tar, MANIFEST, manifest.to_json(), mtime)
            partial.chmod(0o600)  # it holds password hashes and patients' scans
            _fsync(partial)
            partial.replace(out)
            _fsync(out.parent)
    except OSError as e:
        raise BackupError(f"could not write {out}: {e.strerror or e}") from e
    return BackupReport(out, manifest, time.monotonic() - started)


def backed_up_tables() -> list[Table]:
    """Every table of the models, parents before children, less :data:`SKIPPED_TABLES`."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _source_revision(database: Database) -> str:
    current, head = current_revision(database), head_revision()
    if current is None:
        raise BackupError("the database has no Iris tables: nothing to back up (check settings)")
    if current != head:
        if current in known_revisions():
            raise BackupError(
                f"the database is at schema revision {current}, this Iris at {head}: run "
                "`iris db upgrade` first, or back up with the Iris version the service runs"
            )
        raise BackupError(
            f"the database is at schema revision {current}, which this Iris does not know (a newer "
            "Iris migrated it): back up with the Iris version the service runs"
        )
    return current


def _dump_tables(
    database: Database, tables: list[Table], tar: tarfile.TarFile, work: Path, mtime: float
) -> tuple[tuple[TableEntry, ...], set[str]]:
    """Every table's rows, all read in one transaction (one snapshot), and the files they name."""
    entries: list[TableEntry] = []
    named: set[str] = set()
    spool = work / "rows.jsonl"
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # one snapshot for the whole transaction
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        # SQLite: one deferred transaction in WAL mode reads one snapshot while others write.
        with connection.begin():
            for table in tables:
                kinds = column_kinds(table)
                query = select(table).order_by(*table.primary_key.columns)
                count = 0
                with spool.open("wb") as rows:
                    result = connection.execute(query.execution_options(yield_per=BATCH))
                    for row in result.mappings():
                        rows.write(json_line(encode_row(row, kinds)))
                        named.update(_files_named(table.name, row))
                        count += 1
                digest = _add_file(tar, f"{TABLES}{table.name}.jsonl", spool, mtime)
                entries.append(TableEntry(table.name, kinds, count, digest))
    spool.unlink(missing_ok=True)
    return tuple(entries), named


def _files_named(table: str, row: Mapping[Any, Any]) -> Iterable[str]:
    for column in _FILE_COLUMNS.get(table, ()):
        if isinstance(row[column], str):
            yield row[column]
    for column in _ARTIFACT_COLUMNS.get(table, ()):
        for record in (row[column] or {}).values():
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                yield record["key"]


def _copy_blobs(
    blobs: BlobStore,
    named: set[str],
    tar: tarfile.TarFile,
    work: Path,
    mtime: float,
    progress: StepLog,
) -> tuple[tuple[BlobEntry, ...], tuple[str, ...]]:
    """Every stored file, and the rows' files even if no longer listed; those gone are named."""
    keys = sorted({info.key for info in blobs.list_blobs()} | named)
    progress(f"copying {len(keys)} stored files")
    files: list[BlobEntry] = []
    vanished: list[str] = []
    copy = work / "blob"
    for key in keys:
        try:
            blobs.download(key, copy)  # whole to disk first: its size goes in the tar header
        except BlobNotFoundError:  # deleted after the snapshot, with its study or job
            if key in named:  # an unnamed file deleted meanwhile is missed by nobody
                vanished.append(key)
            continue
        try:
            size = copy.stat().st_size
            digest = _sha256(copy)
            member = _member(f"{BLOBS}{key}", size, mtime)
            member.pax_headers = {SHA256_PAX: digest}
            with copy.open("rb") as handle:
                tar.addfile(member, handle)
            files.append(BlobEntry(key, size, digest))
        finally:
            copy.unlink(missing_ok=True)
    return tuple(files), tuple(vanished)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    tar.addfile(_member(name, len(data), mtime), io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path, mtime: float) -> str:
    """Add ``path`` as ``name``, reading it once; its SHA-256."""
    with path.open("rb") as handle:
        hashing = HashingReader(handle)
        tar.addfile(_member(name, path.stat().st_size, mtime), hashing)
    return hashing.hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _member(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def _compressed(out: Path) -> bool:
    name = out.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return True
    if name.endswith(".tar"):
        return False
    raise BackupError(f"name the backup {out.name}.tar, or .tar.gz to compress it")


def _open_tar(path: Path, compress: bool) -> tarfile.TarFile:
    # PAX headers: keys longer than 100 characters, and UTF-8 names.
    if compress:
        return tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, compresslevel=6)
    return tarfile.open(path, "w", format=tarfile.PAX_FORMAT)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
