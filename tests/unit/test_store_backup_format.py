"""The backup format: rows as JSON and back with their exact types, every model column of a kind
the format knows, and manifests that refuse what this Iris cannot read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, MetaData, Numeric, String, Table

from iris3d.store.backup import backed_up_tables
from iris3d.store.backup_format import (
    FORMAT_VERSION,
    SKIPPED_TABLES,
    BackupError,
    BlobEntry,
    Manifest,
    TableEntry,
    column_kinds,
    decode_row,
    encode_row,
)
from iris3d.store.models import Base

KINDS = {"s": "str", "i": "int", "f": "float", "b": "bool", "t": "datetime", "j": "json"}


def test_rows_round_trip_with_their_types() -> None:
    when = datetime(2026, 11, 29, 13, 5, 7, 123456, tzinfo=timezone(timedelta(hours=2)))
    row = {"s": "ü", "i": 2**40, "f": 0.1 + 0.2, "b": True, "t": when, "j": {"a": [1, None]}}
    encoded = encode_row(row, KINDS)
    assert encoded["t"] == "2026-11-29T11:05:07.123456+00:00"  # UTC, with its zone
    decoded = decode_row(encoded, KINDS)
    assert decoded == row and decoded["t"].tzinfo == UTC
    assert type(decoded["b"]) is bool and decoded["f"] == 0.1 + 0.2
    nulls = dict.fromkeys(KINDS)
    assert decode_row(encode_row(nulls, KINDS), KINDS) == nulls


@pytest.mark.parametrize(
    "change",
    [
        {"t": "2026-11-29T11:05:07"},  # no time zone
        {"b": 1},
        {"i": True},
        {"i": "1"},
        {"s": 5},
        {"t": 5},
    ],
)
def test_values_of_the_wrong_type_are_refused(change: dict[str, object]) -> None:
    good = {"s": "x", "i": 1, "f": 1.0, "b": False, "t": "2026-11-29T11:05:07+00:00", "j": []}
    decode_row(good, KINDS)
    with pytest.raises(ValueError):
        decode_row({**good, **change}, KINDS)
    with pytest.raises(ValueError, match="columns"):
        decode_row({k: v for k, v in good.items() if k != "s"}, KINDS)


def test_every_model_column_has_a_kind_and_only_process_state_is_skipped() -> None:
    names = {table.name for table in backed_up_tables()}
    assert names | set(SKIPPED_TABLES) == set(Base.metadata.tables)
    assert {"users", "auth_tokens", "studies", "jobs", "counters"} <= names
    for table in backed_up_tables():
        assert set(column_kinds(table)) == set(table.columns.keys())
    assert column_kinds(Base.metadata.tables["users"])["is_admin"] == "bool"
    assert column_kinds(Base.metadata.tables["users"])["created_at"] == "datetime"
    odd = Table("odd", MetaData(), Column("id", String, primary_key=True), Column("n", Numeric))
    with pytest.raises(BackupError, match=r"odd\.n"):
        column_kinds(odd)


def test_manifests_round_trip_and_refuse_what_they_cannot_read() -> None:
    manifest = Manifest(
        iris_version="0.1.0",
        schema_revision="0001",
        created_at=datetime(2026, 11, 29, tzinfo=UTC),
        tables=(TableEntry("users", {"id": "str"}, 2, "ab" * 32),),
        blobs=(BlobEntry("studies/s/source/ct.nii.gz", 10, "cd" * 32),),
        vanished=("studies/t/source/ct.nii.gz",),
    )
    assert Manifest.from_json(manifest.to_json(), "x") == manifest
    header = Manifest("0.1.0", "0001", manifest.created_at, (TableEntry("users", {"id": "str"}),))
    assert Manifest.from_json(header.to_json(), "x") == header
    newer = manifest.to_json().replace(
        f'"format_version": {FORMAT_VERSION}'.encode(), b'"format_version": 99'
    )
    with pytest.raises(BackupError, match="newer"):
        Manifest.from_json(newer, "x")
    for foreign in (b"{}", b"[1]", b"not json", b'{"format": "iris-backup"}'):
        with pytest.raises(BackupError, match="x"):
            Manifest.from_json(foreign, "x")
