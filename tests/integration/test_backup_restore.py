"""``iris backup`` and ``iris restore`` with the real commands: a service on SQLite and a folder is
backed up and restored onto SQLite and a folder, and onto PostgreSQL and S3 (SeaweedFS) and back;
every row and every byte comes back, and a restored account signs in and downloads its results.
Damaged, foreign and too-new archives, and a target that holds data, are refused and leave the
target as it was."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from sqlalchemy import MetaData, select
from tests.support.scale import postgres_database, seaweedfs
from tests.support.service import (
    PASSWORD,
    api_client,
    create_job,
    finish_next_job,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)
from typer.testing import CliRunner

from iris3d.cli.app import build_app
from iris3d.phantom import Phantom
from iris3d.settings import Settings, get_settings
from iris3d.store import counters, users
from iris3d.store.backup import backed_up_tables
from iris3d.store.blobs import open_blob_store
from iris3d.store.database import database_url, open_database
from iris3d.store.migrate import current_revision, head_revision, known_revisions, migrate_to

GLB = bytes(range(256)) * 40
EMAILS = ("ana@example.org", "ben@example.org")


@dataclass(frozen=True)
class Source:
    settings: Settings
    env: dict[str, str]
    job_id: str
    headers: dict[str, str]  # a signed-in session of the study's owner
    backup: Path  # .tar.gz made by `iris backup` from the running service's files


def _env(settings: Settings) -> dict[str, str]:
    """The environment that makes `iris` use ``settings``' database and storage."""
    env = {
        "IRIS_DATA_DIR": str(settings.data_dir),
        "IRIS_DATABASE_URL": database_url(settings),
        "IRIS_STORAGE_URL": settings.storage_url or str(settings.data_dir / "storage"),
    }
    for name in ("s3_endpoint_url", "s3_access_key_id", "s3_secret_access_key"):
        env[f"IRIS_{name.upper()}"] = getattr(settings, name) or ""
    return env


def _iris(env: dict[str, str], *args: str) -> Result:
    get_settings.cache_clear()  # the command reads the environment given here
    try:
        return CliRunner().invoke(build_app(), list(args), env=env)
    finally:
        get_settings.cache_clear()


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return _counts_only(result.output)


def _refused(result: Result, *words: str) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    for word in words:
        assert word in result.output
    return _counts_only(result.output)


def _counts_only(output: str) -> str:
    for email in EMAILS:  # no account (nor patient) in what the commands print
        assert email not in output
    return output


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, small_phantom: Phantom) -> Source:
    tmp = tmp_path_factory.mktemp("backup")
    settings = service_settings(tmp / "source")
    with api_client(settings) as client:
        headers = sign_up(client, EMAILS[0])
        sign_up(client, EMAILS[1])
        study = upload_study(client, headers, phantom_nifti(small_phantom, tmp))
        job = create_job(client, headers, study["id"])
        finish_next_job(settings, {"glb": GLB, "thumbnail": b"\x89PNG-thumb"})
        create_job(client, headers, study["id"], quality="high")  # stays queued
        db = open_db(settings)
        with db.session() as session:
            admin = users.user_by_email(session, EMAILS[1])
            assert admin is not None
            users.set_admin(session, admin, True)
            counters.add(session, "iris_test_seconds", "a|0.1", 0.1 + 0.2)  # a float that shows
        db.dispose()
        backup = tmp / "iris.tar.gz"
        _ok(_iris(_env(settings), "backup", str(backup)))  # while the service runs
    return Source(settings, _env(settings), job["id"], headers, backup)


def _rows(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every backed-up table's rows, each value with its Python type (True is not 1)."""
    db = open_database(database_url(settings))
    try:
        with db.engine.connect() as connection:
            return {
                table.name: [
                    {name: (type(value).__name__, value) for name, value in row.items()}
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    ).mappings()
                ]
                for table in backed_up_tables()
            }
    finally:
        db.dispose()


def _files(settings: Settings) -> dict[str, bytes]:
    blobs = open_blob_store(settings)
    return {info.key: b"".join(blobs.read(info.key)) for info in blobs.list_blobs()}


def _assert_same(source: Settings, target: Settings) -> None:
    rows = _rows(source)
    assert rows["users"] and rows["studies"] and len(rows["jobs"]) == 2 and rows["counters"]
    assert _rows(target) == rows
    files = _files(source)
    assert len(files) == 3  # the study's source and the finished job's two results
    assert _files(target) == files


def _fresh(tmp_path: Path, name: str = "target") -> Settings:
    return service_settings(tmp_path / name)


def test_backup_and_restore_onto_sqlite_and_a_folder(source: Source, tmp_path: Path) -> None:
    target = _fresh(tmp_path)
    output = _ok(_iris(_env(target), "restore", str(source.backup)))
    assert f"restored {len(backed_up_tables())} tables" in output and "3 files" in output
    assert "verified" in output
    _assert_same(source.settings, target)
    db = open_db(target)
    assert current_revision(db) == head_revision()
    db.dispose()


def test_the_archive_holds_a_manifest_rows_and_files(source: Source, tmp_path: Path) -> None:
    plain = tmp_path / "iris.tar"
    output = _ok(_iris(source.env, "backup", str(plain)))
    assert f"{len(backed_up_tables())} tables" in output and "3 files" in output
    assert plain.stat().st_mode & 0o077 == 0  # password hashes and scans: the owner's only
    with tarfile.open(plain) as tar:
        names = tar.getnames()
        manifest = json.loads(_member(tar, "manifest.json"))
        users_jsonl = _member(tar, "tables/users.jsonl").decode()
    assert names[0] == "iris-backup.json" and names[-1] == "manifest.json"
    assert sorted(n for n in names if n.startswith("blobs/")) == [
        f"blobs/{blob['key']}" for blob in manifest["blobs"]
    ]
    assert manifest["schema_revision"] == head_revision() and manifest["vanished"] == []
    assert {t["name"]: t["rows"] for t in manifest["tables"]}["users"] == 2
    first = json.loads(users_jsonl.splitlines()[0])
    assert first["created_at"].endswith("+00:00") and isinstance(first["is_admin"], bool)
    assert [p.name for p in tmp_path.iterdir()] == ["iris.tar"]  # no partial file left beside it
    _refused(_iris(source.env, "backup", str(plain)), "exists", "--overwrite")
    _ok(_iris(source.env, "backup", str(plain), "--overwrite"))
    _refused(_iris(source.env, "backup", str(tmp_path / "iris.zip")), ".tar.gz")


def test_restore_onto_postgresql_and_s3_and_back(source: Source, tmp_path: Path) -> None:
    with postgres_database() as url, seaweedfs(tmp_path / "s3") as s3:
        target = service_settings(
            tmp_path / "pg",
            database_url=url,
            storage_url=s3["IRIS_STORAGE_URL"],
            s3_endpoint_url=s3["IRIS_S3_ENDPOINT_URL"],
            s3_access_key_id=s3["IRIS_S3_ACCESS_KEY_ID"],
            s3_secret_access_key=s3["IRIS_S3_SECRET_ACCESS_KEY"],
        )
        _ok(_iris(_env(target), "restore", str(source.backup)))
        _assert_same(source.settings, target)
        back = tmp_path / "from-postgresql.tar"
        _ok(_iris(_env(target), "backup", str(back)))  # before signing in adds a session
        with api_client(target) as client:
            signed = client.post(
                "/api/auth/signin", json={"email": EMAILS[0], "password": PASSWORD}
            )
            assert signed.status_code == 200  # the password hash came back intact
            token = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            for headers in (token, source.headers):  # sessions survive a restore too
                link = client.get(
                    f"/api/jobs/{source.job_id}/artifacts/glb",
                    headers=headers,
                    follow_redirects=False,
                )
                assert link.status_code == 307  # S3 serves it: a presigned URL
                assert httpx.get(link.headers["location"]).content == GLB
    again = _fresh(tmp_path, "again")
    _ok(_iris(_env(again), "restore", str(back)))
    _assert_same(source.settings, again)


def test_a_target_with_data_needs_force(source: Source, tmp_path: Path) -> None:
    target = _fresh(tmp_path)
    _ok(_iris(_env(target), "restore", str(source.backup)))
    db = open_db(target)
    with db.session() as session:
        users.create_user(session, "new@example.org", "hash", is_admin=False)
    db.dispose()
    before = _rows(target)
    _refused(_iris(_env(target), "restore", str(source.backup)), "already holds data", "--force")
    assert _rows(target) == before
    output = _ok(_iris(_env(target), "restore", str(source.backup), "--force"))
    assert "--force" in output and "replaced" in output
    _assert_same(source.settings, target)


def _damaged_copies(backup: Path, folder: Path) -> Iterator[tuple[Path, str]]:
    """Broken archives and the words the refusal of each must say."""
    content = backup.read_bytes()
    plain = folder / "plain.tar"
    with tarfile.open(backup) as tar, tarfile.open(plain, "w") as out:
        for member in tar.getmembers():
            out.addfile(member, tar.extractfile(member))
    with tarfile.open(plain) as tar:
        blob = next(m for m in tar.getmembers() if m.name.startswith("blobs/"))
        manifest = tar.getmember("manifest.json")
    whole = plain.read_bytes()
    flipped = bytearray(whole)
    flipped[blob.offset_data + 5] ^= 0xFF
    cases = {
        "flipped.tar": (bytes(flipped), "bytes differ from its checksum"),
        "cut.tar.gz": (content[: len(content) * 2 // 3], "damaged or truncated"),
        "cut-in-a-file.tar": (whole[: blob.offset_data + 10], "damaged or truncated"),
        "cut-before-manifest.tar": (whole[: manifest.offset], "ends before its manifest"),
        "cut-in-manifest.tar": (whole[: manifest.offset_data + 100], "damaged or truncated"),
        "random.tar": (os.urandom(20_000), "not an Iris backup"),
        "empty.tar": (b"", "not an Iris backup"),
        "other.tar": (_tar({"notes.txt": b"hello"}), "not an Iris backup"),
    }
    for name, (data, words) in cases.items():
        path = folder / name
        path.write_bytes(data)
        yield path, words


def _tar(members: dict[str, bytes], like: Path | None = None) -> bytes:
    """A tar of ``members``, each with the tar headers of its namesake in ``like`` if any."""
    headers: dict[str, dict[str, str]] = {}
    if like is not None:
        with tarfile.open(like) as tar:
            headers = {member.name: member.pax_headers for member in tar.getmembers()}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = headers.get(name, {})
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    assert handle is not None
    return handle.read()


def test_damaged_and_foreign_archives_leave_the_target_as_it_was(
    source: Source, tmp_path: Path
) -> None:
    empty = _fresh(tmp_path, "empty")
    full = _fresh(tmp_path, "full")
    _ok(_iris(_env(full), "restore", str(source.backup)))
    rows, files = _rows(full), _files(full)
    for path, words in _damaged_copies(source.backup, tmp_path):
        _refused(_iris(_env(empty), "restore", str(path)), words)
        db = open_db(empty)
        assert current_revision(db) is None  # not even a schema
        db.dispose()
        assert _files(empty) == {}  # files that went up were removed again
        _refused(_iris(_env(full), "restore", str(path), "--force"), words)
        assert _rows(full) == rows and _files(full) == files


def test_a_backup_from_a_newer_schema_is_refused(source: Source, tmp_path: Path) -> None:
    newer = tmp_path / "newer.tar"
    newer.write_bytes(
        _rebuilt(source.backup, _contents(source.backup), {"schema_revision": "9999"})
    )
    target = _fresh(tmp_path)
    _refused(_iris(_env(target), "restore", str(newer)), "9999", "does not know")
    assert _files(target) == {}
    db = open_db(target)
    assert current_revision(db) is None
    db.dispose()


def test_files_deleted_while_backing_up_are_noted_not_fatal(source: Source, tmp_path: Path) -> None:
    copy = service_settings(tmp_path / "copy")
    shutil.copytree(source.settings.data_dir, copy.data_dir)
    artifacts = _rows(copy)["jobs"]
    thumbnail = next(
        value["thumbnail"]["key"]
        for row in artifacts
        for kind, value in [row["artifacts"]]
        if kind == "dict" and "thumbnail" in value
    )
    open_blob_store(copy).delete(thumbnail)  # as if its job were deleted after the snapshot
    backup = tmp_path / "gap.tar"
    output = _ok(_iris(_env(copy), "backup", str(backup)))
    assert "1 files named by the database were deleted" in output
    with tarfile.open(backup) as tar:
        assert json.loads(_member(tar, "manifest.json"))["vanished"] == [thumbnail]
    target = _fresh(tmp_path)
    output = _ok(_iris(_env(target), "restore", str(backup)))
    assert "1 files named by the database were missing" in output
    assert len(_files(target)) == 2


def test_a_backup_of_an_older_schema_is_restored_then_migrated(
    source: Source, tmp_path: Path
) -> None:
    revisions = known_revisions()
    if len(revisions) < 2:
        pytest.skip("one schema revision so far")
    older = revisions[-2]
    scratch = open_database(f"sqlite:///{tmp_path / 'scratch.db'}")
    migrate_to(scratch, older)
    schema = MetaData()
    schema.reflect(scratch.engine)
    scratch.dispose()
    backup = tmp_path / "older.tar"
    backup.write_bytes(_as_if_made_at(source.backup, older, schema))
    fresh, full = _fresh(tmp_path, "fresh"), _fresh(tmp_path, "full")
    _ok(_iris(_env(full), "restore", str(source.backup)))  # at the newest revision, with data
    _ok(_iris(_env(fresh), "restore", str(backup)))
    _ok(_iris(_env(full), "restore", str(backup), "--force"))  # goes down, then up again
    expected = _columns_of(_rows(source.settings), schema)
    for target in (fresh, full):
        assert _columns_of(_rows(target), schema) == expected
        assert _files(target) == _files(source.settings)
        db = open_db(target)
        assert current_revision(db) == head_revision()
        db.dispose()


def test_rows_the_database_refuses_are_reported_without_their_values(
    source: Source, tmp_path: Path
) -> None:
    members = _contents(source.backup)
    members["tables/users.jsonl"] += members["tables/users.jsonl"].splitlines(True)[0]
    twice = tmp_path / "twice.tar"  # one account twice: the database refuses the second
    twice.write_bytes(_rebuilt(source.backup, members))
    target = _fresh(tmp_path)
    _refused(_iris(_env(target), "restore", str(twice)), "refused the rows of users")
    assert not any(_rows(target).values())
    assert _files(target) == {}  # the files went up before the rows failed: removed again


def _contents(backup: Path) -> dict[str, bytes]:
    with tarfile.open(backup) as tar:
        return {member.name: _member(tar, member.name) for member in tar.getmembers()}


def _rebuilt(
    backup: Path, members: dict[str, bytes], changes: dict[str, Any] | None = None
) -> bytes:
    """``members`` as an archive like ``backup``: ``changes`` made to its header and manifest
    alike, and the manifest's table checksums made to fit the rows."""
    for name in ("iris-backup.json", "manifest.json"):
        document = {**json.loads(members[name]), **(changes or {})}
        for table in document["tables"]:
            if "sha256" in table:
                rows = members[f"tables/{table['name']}.jsonl"]
                table["sha256"] = hashlib.sha256(rows).hexdigest()
        members[name] = json.dumps(document).encode()
    return _tar(members, like=backup)


def _as_if_made_at(backup: Path, revision: str, schema: MetaData) -> bytes:
    """The backup as an Iris at ``revision`` would have written it: its tables and columns."""
    members = _contents(backup)
    kept = {name: table.columns.keys() for name, table in schema.tables.items()}
    older: dict[str, bytes] = {}
    for name, data in members.items():  # in their order
        table = name.removeprefix("tables/").removesuffix(".jsonl")
        if not name.startswith("tables/"):
            older[name] = data
        elif table in kept:
            older[name] = b"".join(
                json.dumps({k: v for k, v in json.loads(row).items() if k in kept[table]}).encode()
                + b"\n"
                for row in data.splitlines()
            )
    tables = [
        {**t, "columns": {k: v for k, v in t["columns"].items() if k in kept[t["name"]]}}
        for t in json.loads(members["manifest.json"])["tables"]
        if t["name"] in kept
    ]
    return _rebuilt(backup, older, {"schema_revision": revision, "tables": tables})


def _columns_of(
    rows: dict[str, list[dict[str, Any]]], schema: MetaData
) -> dict[str, list[dict[str, Any]]]:
    return {
        table: [{k: v for k, v in row.items() if k in schema.tables[table].columns} for row in rs]
        for table, rs in rows.items()
        if table in schema.tables
    }
