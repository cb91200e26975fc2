"""Accounts against hostile users (test client): sign-up modes and limits, idle sessions, API
tokens, sign out everywhere, disabled accounts, per-user quotas an administrator can change."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from starlette.requests import HTTPConnection
from tests.support.service import (
    PASSWORD,
    api_client,
    make_admin,
    open_db,
    phantom_nifti,
    service_settings,
    sign_up,
    upload_study,
)

from iris3d.api.clients import ClientResolver
from iris3d.phantom import make_phantom
from iris3d.settings import Settings
from iris3d.store.models import AuthToken


def _register(client: object, email: str, **extra: str) -> int:
    body = {"email": email, "password": PASSWORD, **extra}
    return int(client.post("/api/auth/register", json=body).status_code)  # type: ignore[attr-defined]


def test_closed_sign_up_refuses_everyone(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path, signup_mode="closed")) as client:
        response = client.post(
            "/api/auth/register", json={"email": "a@example.org", "password": PASSWORD}
        )
        assert response.status_code == 403 and "closed" in response.json()["detail"]


def test_invite_only_sign_up_takes_one_account_per_code(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    with api_client(settings) as client:
        admin = sign_up(client, "root@example.org")
        make_admin(settings, "root@example.org")
        code = client.post("/api/admin/invites", json={}, headers=admin).json()["code"]
    invite_only = service_settings(tmp_path, signup_mode="invite")
    with api_client(invite_only) as client:
        assert _register(client, "b@example.org") == 403
        assert _register(client, "b@example.org", invite="made-up") == 403
        assert _register(client, "b@example.org", invite=code) == 201
        assert _register(client, "c@example.org", invite=code) == 403  # used
        # The refused registrations left no account behind.
        assert _register(client, "c@example.org", invite="x") == 403


def test_sign_ups_are_limited_per_client_and_overall(tmp_path: Path) -> None:
    per_client = service_settings(tmp_path / "a", signup_per_client=2)
    with api_client(per_client) as client:
        codes = [_register(client, f"u{n}@example.org") for n in range(4)]
        assert codes == [201, 201, 429, 429]
    overall = service_settings(tmp_path / "b", signup_per_hour=3)
    with api_client(overall) as client:
        codes = [_register(client, f"u{n}@example.org") for n in range(4)]
        assert codes == [201, 201, 201, 429]


def _time_passes(settings: Settings, seconds: float) -> None:
    """Every token made and last used ``seconds`` earlier: the clock moved on, without waiting
    for it (a test that sleeps through an idle time fails when the machine is slow)."""
    db = open_db(settings)
    with db.session() as session:
        for token in session.scalars(select(AuthToken)):
            token.created_at -= timedelta(seconds=seconds)
            if token.last_used_at is not None:
                token.last_used_at -= timedelta(seconds=seconds)
    db.dispose()


def test_idle_sessions_end_but_api_tokens_do_not(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, session_idle_s=600)
    with api_client(settings) as client:
        session = sign_up(client, "idle@example.org")
        made = client.post("/api/auth/tokens", json={"name": "backup script"}, headers=session)
        assert made.status_code == 201
        api = {"Authorization": f"Bearer {made.json()['secret']}"}
        for _ in range(3):  # in use: alive long past the idle time, each use restarting it
            _time_passes(settings, 500)
            assert client.get("/api/auth/me", headers=session).status_code == 200
        _time_passes(settings, 601)
        assert client.get("/api/auth/me", headers=session).status_code == 401
        assert client.get("/api/auth/me", headers=api).status_code == 200


def test_tokens_are_listed_without_secrets_and_revocable(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        session = sign_up(client, "tok@example.org")
        made = client.post("/api/auth/tokens", json={"name": "ci"}, headers=session).json()
        listing = client.get("/api/auth/tokens", headers=session)
        assert made["secret"] not in listing.text
        items = listing.json()["items"]
        assert {(t["kind"], t["name"], t["current"]) for t in items} == {
            ("session", "", True),
            ("api", "ci", False),
        }
        api = {"Authorization": f"Bearer {made['secret']}"}
        other = sign_up(client, "other@example.org")
        revoke = f"/api/auth/tokens/{made['token']['id']}"
        assert client.delete(revoke, headers=other).status_code == 404  # not theirs
        assert client.get("/api/auth/me", headers=api).status_code == 200
        assert client.delete(revoke, headers=session).status_code == 204
        assert client.get("/api/auth/me", headers=api).status_code == 401


def test_sign_out_everywhere_ends_every_session_and_token(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        first = sign_up(client, "all@example.org")
        second = client.post(
            "/api/auth/signin", json={"email": "all@example.org", "password": PASSWORD}
        ).json()["access_token"]
        client.cookies.clear()
        ended = client.post("/api/auth/signout-everywhere", headers=first)
        assert ended.status_code == 200 and ended.json()["ended"] == 2
        for token in (first, {"Authorization": f"Bearer {second}"}):
            assert client.get("/api/auth/me", headers=token).status_code == 401


def test_admins_adjust_quotas_per_user(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, quota_studies=1)
    content = phantom_nifti(make_phantom(shape=(16, 16, 12), spacing=(8.0, 8.0, 8.0)))
    with api_client(settings) as client:
        user = sign_up(client, "grow@example.org")
        admin = sign_up(client, "boss@example.org")
        make_admin(settings, "boss@example.org")
        upload_study(client, user, content)
        refused = client.post(
            "/api/studies",
            headers=user,
            files=[("files", ("ct.nii.gz", content, "application/octet-stream"))],
        )
        assert refused.status_code == 403 and "studies" in refused.json()["detail"]
        me = client.get("/api/auth/me", headers=user).json()
        change = {"limits": {"studies": 3}}
        assert (
            client.patch(f"/api/admin/users/{me['id']}", json=change, headers=user).status_code
            == 403
        )
        changed = client.patch(f"/api/admin/users/{me['id']}", json=change, headers=admin)
        assert changed.status_code == 200 and changed.json()["limits"] == {"studies": 3}
        upload_study(client, user, content)
        quotas = {
            q["name"]: q for q in client.get("/api/auth/quotas", headers=user).json()["items"]
        }
        assert quotas["studies"]["limit"] == 3 and quotas["studies"]["used"] == 2
        assert quotas["stored_bytes"]["used"] >= 2 * len(content)
        negative = {"limits": {"studies": -1}}
        assert (
            client.patch(f"/api/admin/users/{me['id']}", json=negative, headers=admin).status_code
            == 422
        )
        back = client.patch(
            f"/api/admin/users/{me['id']}", json={"limits": {"studies": None}}, headers=admin
        )
        assert back.json()["limits"] == {}


@pytest.mark.parametrize(
    "values",
    [
        {"secret_key": "change-me-to-48-random-characters-0123456789abcdef"},
        {"database_url": "postgresql+psycopg://iris:iris@postgres:5432/iris"},
        {"s3_secret_access_key": "iris-secret-key"},
        {"metrics_token": "short"},
    ],
)
def test_placeholders_from_example_files_are_refused_in_production(
    tmp_path: Path, values: dict[str, str]
) -> None:
    base = {
        "data_dir": tmp_path,
        "env": "production",
        "secret_key": "q" * 8 + "Zk4Rt7Yp2Lk9Jh5Gf3Ds8W",
    }
    with pytest.raises(ValidationError):
        Settings(**{**base, **values})
    Settings(**{**base, **values, "env": "development"})  # fine where nothing is at stake


def _connection(peer: str, headers: dict[str, str], scheme: str = "http") -> HTTPConnection:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "client": (peer, 1234),
        "headers": raw,
        "scheme": scheme,
        "server": ("iris", 80),
        "path": "/",
        "query_string": b"",
    }
    return HTTPConnection(scope)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies() -> None:
    resolver = ClientResolver.from_settings(["10.0.0.0/8", "::1"])
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.1.2.3"}
    assert resolver.address(_connection("10.0.0.5", forwarded)) == "203.0.113.9"
    assert resolver.address(_connection("192.0.2.4", forwarded)) == "192.0.2.4"
    assert resolver.address(_connection("10.0.0.5", {})) == "10.0.0.5"
    assert resolver.address(_connection("10.0.0.5", {"X-Forwarded-For": "junk"})) == "10.0.0.5"
    assert (
        ClientResolver.from_settings([]).address(_connection("10.0.0.5", forwarded)) == "10.0.0.5"
    )
    tls = {"X-Forwarded-Proto": "https"}
    assert resolver.is_https(_connection("10.0.0.5", tls))
    assert not resolver.is_https(_connection("192.0.2.4", tls))
    assert resolver.is_https(_connection("192.0.2.4", {}, scheme="https"))


@pytest.mark.slow
def test_the_first_account_of_an_invite_only_server_comes_from_the_server_command(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "IRIS_DATA_DIR": str(tmp_path / "data"), "IRIS_ENV": "development"}
    env = {k: v for k, v in env.items() if k not in ("IRIS_DATABASE_URL", "IRIS_STORAGE_URL")}
    made = subprocess.run(
        [sys.executable, "-c", "from iris3d.cli.app import main; main()", "db", "invite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip()
    with api_client(service_settings(tmp_path / "data", signup_mode="invite")) as client:
        assert _register(client, "first@example.org", invite=code) == 201
        assert _register(client, "second@example.org", invite=code) == 403


def test_parallel_uploads_cannot_slip_past_the_quota_together(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, quota_open_uploads=3)
    with api_client(settings) as client:
        user = sign_up(client, "racer@example.org")
        body = {"filename": "ct.nii.gz", "size": 1000}

        def announce(_: int) -> int:
            return int(client.post("/api/uploads", json=body, headers=user).status_code)

        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = sorted(pool.map(announce, range(12)))
        assert codes == [201] * 3 + [403] * 9, codes


def test_trusted_proxies_must_be_addresses(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, trusted_proxies=["10.0.0.0/8", "::1", "192.0.2.7"])
    with pytest.raises(ValidationError, match="IRIS_TRUSTED_PROXIES"):
        Settings(data_dir=tmp_path, trusted_proxies=["proxy.example.org"])
