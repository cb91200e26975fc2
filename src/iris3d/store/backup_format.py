"""The backup archive's format, shared by :mod:`.backup` (which writes it) and :mod:`.restore`.

A tar file, gzip-compressed when its name ends in ``.tar.gz`` or ``.tgz``, holding in this order:

- ``iris-backup.json``: what the archive is (format, Iris version, schema revision, when, each
  table's columns), so that a restore can refuse it before touching anything;
- ``tables/<name>.jsonl``: a table's rows, one JSON object a line in primary-key order, every table
  read in one snapshot of the database (timestamps ISO 8601 in UTC, JSON columns as JSON);
- ``blobs/<key>``: every stored file under its key, copied after that snapshot, its SHA-256 in its
  tar header too;
- ``manifest.json``: the same description with each table's row count and SHA-256, each file's size
  and SHA-256, and the files the rows name that vanished while the backup was taken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Table
from sqlalchemy.types import TypeDecorator, TypeEngine

from iris3d.errors import IrisError

FORMAT = "iris-backup"
FORMAT_VERSION = 1
HEADER = "iris-backup.json"
MANIFEST = "manifest.json"
TABLES = "tables/"
BLOBS = "blobs/"
# Each file's SHA-256 also rides in its own tar header, so that a restore checks the bytes before
# they replace anything. Named as an extended attribute, tar's convention that tools which do not
# know it pass over quietly (GNU tar warns about other unknown keywords).
SHA256_PAX = "SCHILY.xattr.user.iris.sha256"
# Rows that describe this moment's processes rather than the service's data, so not backed up:
# a chunked upload's bytes so far live on the API machine's disk, outside the blob store, and a
# worker row is a live process known by its heartbeat.
SKIPPED_TABLES = ("uploads", "workers")
BATCH = 1000  # rows a query or insert handles at a time

StepLog = Callable[[str], None]
"""Told each step of a backup or restore as it starts (there is no fraction to report)."""


class BackupError(IrisError):
    """The backup could not be written, or is not one this Iris can restore."""


@dataclass(frozen=True)
class TableEntry:
    name: str
    columns: dict[str, str]  # column name -> kind: str, int, float, bool, datetime or json
    rows: int | None = None  # None in the header, which is written before the rows are read
    sha256: str | None = None


@dataclass(frozen=True)
class BlobEntry:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    iris_version: str
    schema_revision: str
    created_at: datetime
    tables: tuple[TableEntry, ...]
    blobs: tuple[BlobEntry, ...] = ()
    vanished: tuple[str, ...] = ()  # files rows name that were deleted before they were copied
    skipped_tables: tuple[str, ...] = SKIPPED_TABLES
    format_version: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(table.rows or 0 for table in self.tables)

    @property
    def blob_bytes(self) -> int:
        return sum(blob.size for blob in self.blobs)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": self.format_version,
            "iris_version": self.iris_version,
            "schema_revision": self.schema_revision,
            "created_at": self.created_at.isoformat(),
            "skipped_tables": list(self.skipped_tables),
            "tables": [_drop_none(vars(table)) for table in self.tables],
            "blobs": [vars(blob) for blob in self.blobs],
            "vanished": list(self.vanished),
        }
        return json.dumps(document, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> Manifest:
        """Parse a header or manifest; anything else is :class:`BackupError` naming ``where``."""
        try:
            document = json.loads(data)
            if document.get("format") != FORMAT:
                raise BackupError(f"{where} is not an Iris backup")
            version = int(document["format_version"])
            if version > FORMAT_VERSION:
                raise BackupError(
                    f"{where} has backup format {version}, newer than this Iris reads "
                    f"({FORMAT_VERSION}): restore it with the Iris version that made it"
                )
            return cls(
                iris_version=str(document["iris_version"]),
                schema_revision=str(document["schema_revision"]),
                created_at=_aware(datetime.fromisoformat(document["created_at"])),
                tables=tuple(_table_entry(t) for t in document["tables"]),
                blobs=tuple(
                    BlobEntry(str(b["key"]), int(b["size"]), str(b["sha256"]))
                    for b in document.get("blobs", [])
                ),
                vanished=tuple(str(key) for key in document.get("vanished", [])),
                skipped_tables=tuple(str(name) for name in document.get("skipped_tables", [])),
                format_version=version,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise BackupError(f"{where} is not a readable Iris backup description ({e})") from e


def column_kinds(table: Table) -> dict[str, str]:
    return {column.name: _kind(table.name, column.name, column.type) for column in table.columns}


def encode_row(row: Mapping[Any, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    return {name: _encode(row[name], kind) for name, kind in kinds.items()}


def decode_row(document: Any, kinds: Mapping[str, str]) -> dict[str, Any]:
    """The values to insert for one line of ``tables/<name>.jsonl``; ValueError if it does not
    fit the columns."""
    if not isinstance(document, dict) or set(document) != set(kinds):
        raise ValueError("a row's columns differ from its table's")
    return {name: _decode(document[name], kind) for name, kind in kinds.items()}


def json_line(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _kind(table: str, column: str, sql_type: TypeEngine[Any]) -> str:
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    for sql_kind, kind in (
        (DateTime, "datetime"),
        (JSON, "json"),
        (Boolean, "bool"),
        (Float, "float"),
        (Integer, "int"),
        (String, "str"),
    ):
        if isinstance(sql_type, sql_kind):
            return kind
    raise BackupError(f"backups do not know the type {sql_type!r} of the column {table}.{column}")


def _encode(value: Any, kind: str) -> Any:
    if value is not None and kind == "datetime":
        return _aware(value).astimezone(UTC).isoformat()
    return value


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
}


def _decode(value: Any, kind: str) -> Any:
    if value is None or kind == "json":
        return value
    if kind == "datetime" and isinstance(value, str):
        return _aware(datetime.fromisoformat(value)).astimezone(UTC)
    # bool is an int to Python, not to the database
    if isinstance(value, _PYTHON_TYPES[kind]) and (kind == "bool") == isinstance(value, bool):
        return value
    raise ValueError(f"{type(value).__name__} where a {kind} belongs")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a timestamp without a time zone")
    return value


def _table_entry(document: dict[str, Any]) -> TableEntry:
    columns = {str(name): str(kind) for name, kind in document["columns"].items()}
    if any(kind not in (*_PYTHON_TYPES, "json") for kind in columns.values()):
        raise ValueError(f"unknown column kinds in {document['name']}")
    rows, digest = document.get("rows"), document.get("sha256")
    return TableEntry(
        str(document["name"]),
        columns,
        None if rows is None else int(rows),
        None if digest is None else str(digest),
    )


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class HashingReader:
    """A file's bytes as they are read, adding them to a SHA-256 on the way."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._digest.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
