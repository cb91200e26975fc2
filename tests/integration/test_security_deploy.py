"""The deployment's S3 identity on a real SeaweedFS: made by deploy/seaweedfs-s3-config.sh (as the
compose file does at start), it may use the app's bucket and nothing else."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
from tests.support.scale import s3_client, seaweedfs

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_the_apps_s3_identity_is_limited_to_its_bucket(tmp_path: Path) -> None:
    key, secret = secrets.token_hex(10), secrets.token_urlsafe(40)
    made = subprocess.run(
        ["sh", str(ROOT / "deploy" / "seaweedfs-s3-config.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "IRIS_S3_ACCESS_KEY_ID": key,
            "IRIS_S3_SECRET_ACCESS_KEY": secret,
            "S3_BUCKET": "iris",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    with seaweedfs(tmp_path, identities=made.stdout, key=key, secret=secret) as env:
        s3 = s3_client(env)
        s3.put_object(Bucket="iris", Key="data/a.txt", Body=b"ok")
        assert s3.get_object(Bucket="iris", Key="data/a.txt")["Body"].read() == b"ok"
        with pytest.raises(Exception, match="AccessDenied"):
            s3.create_bucket(Bucket="elsewhere")
        with pytest.raises(Exception, match=r"AccessDenied|NoSuchBucket"):
            s3.put_object(Bucket="elsewhere", Key="x", Body=b"no")
        wrong = s3_client({**env, "IRIS_S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(40)})
        with pytest.raises(Exception, match=r"SignatureDoesNotMatch|AccessDenied"):
            wrong.get_object(Bucket="iris", Key="data/a.txt")
