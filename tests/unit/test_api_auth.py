"""Accounts: register, sign in with cookie or token, sign out, rate limits, admins, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.support.service import PASSWORD, api_client, make_admin, service_settings, sign_up

from iris3d.api.security import Passwords
from iris3d.settings import DEVELOPMENT_SECRET_KEY, Settings


def test_register_sign_in_me_and_sign_out_with_a_cookie(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        created = client.post(
            "/api/auth/register", json={"email": "Ann@Example.org", "password": PASSWORD}
        )
        assert created.status_code == 201
        assert created.json()["email"] == "ann@example.org"
        assert "password" not in created.text and "hash" not in created.text
        assert client.get("/api/auth/me").status_code == 401
        signed = client.post(
            "/api/auth/signin", json={"email": "ann@example.org", "password": PASSWORD}
        )
        assert signed.status_code == 200
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
        assert client.get("/api/auth/me").json()["email"] == "ann@example.org"
        assert client.post("/api/auth/signout").status_code == 204
        assert client.get("/api/auth/me").status_code == 401


def test_bearer_tokens_work_without_cookies_and_die_at_sign_out(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        headers = sign_up(client, "bob@example.org")
        assert client.get("/api/auth/me", headers=headers).status_code == 200
        assert client.post("/api/auth/signout", headers=headers).status_code == 204
        assert client.get("/api/auth/me", headers=headers).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert client.get("/api/auth/me", headers=bad).status_code == 401


def test_cookies_are_secure_outside_development(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, env="production", secret_key="s" * 40)
    with api_client(settings) as client:
        client.post("/api/auth/register", json={"email": "c@example.org", "password": PASSWORD})
        signed = client.post(
            "/api/auth/signin", json={"email": "c@example.org", "password": PASSWORD}
        )
        assert "secure" in signed.headers["set-cookie"].lower()


def test_sign_in_does_not_say_whether_the_account_exists(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        sign_up(client, "dan@example.org")
        wrong = client.post(
            "/api/auth/signin", json={"email": "dan@example.org", "password": "wrong password"}
        )
        absent = client.post(
            "/api/auth/signin", json={"email": "nobody@example.org", "password": "wrong password"}
        )
        assert wrong.status_code == absent.status_code == 401
        assert wrong.json() == absent.json()


def test_unknown_accounts_still_check_a_hash() -> None:
    # The constant-time path: verifying against no account does the same argon2 work.
    passwords = Passwords()
    stored = passwords.hash("right password")
    assert passwords.verify(stored, "right password")
    assert not passwords.verify(stored, "wrong password")
    assert not passwords.verify(None, "right password")
    assert not passwords.verify("not-a-hash", "x")


def test_the_same_email_cannot_register_twice(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        sign_up(client, "eve@example.org")
        again = client.post(
            "/api/auth/register", json={"email": "EVE@example.org", "password": PASSWORD}
        )
        assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"email": "no-at-sign", "password": PASSWORD},
        {"email": "f@example.org", "password": "short"},
    ],
)
def test_bad_registrations_are_refused(tmp_path: Path, body: dict[str, str]) -> None:
    with api_client(service_settings(tmp_path)) as client:
        assert client.post("/api/auth/register", json=body).status_code == 422


def test_failed_sign_ins_are_rate_limited(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, signin_attempts=3, signin_window_s=60)
    with api_client(settings) as client:
        sign_up(client, "gus@example.org")
        wrong = {"email": "gus@example.org", "password": "wrong password"}
        codes = [client.post("/api/auth/signin", json=wrong).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        right = {"email": "gus@example.org", "password": PASSWORD}
        limited = client.post("/api/auth/signin", json=right)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0


def test_admins_list_users_and_jobs_others_cannot(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    with api_client(settings) as client:
        user = sign_up(client, "worker@example.org")
        admin = sign_up(client, "boss@example.org")
        assert client.get("/api/admin/users", headers=admin).status_code == 403
        make_admin(settings, "boss@example.org")
        assert client.get("/api/admin/users", headers=user).status_code == 403
        assert client.get("/api/admin/jobs", headers=user).status_code == 403
        listing = client.get("/api/admin/users", headers=admin).json()
        assert listing["total"] == 2
        assert {u["email"] for u in listing["items"]} == {"worker@example.org", "boss@example.org"}
        assert client.get("/api/admin/jobs", headers=admin).json() == {"items": []}


def test_the_development_secret_is_refused_elsewhere(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, env="development")
    with pytest.raises(ValidationError, match="IRIS_SECRET_KEY"):
        Settings(data_dir=tmp_path, env="production")
    with pytest.raises(ValidationError, match="IRIS_SECRET_KEY"):
        Settings(data_dir=tmp_path, env="production", secret_key="short")
    with pytest.raises(ValidationError, match="IRIS_SECRET_KEY"):
        Settings(data_dir=tmp_path, env="test", secret_key=DEVELOPMENT_SECRET_KEY)
    Settings(data_dir=tmp_path, env="production", secret_key="x" * 32)
