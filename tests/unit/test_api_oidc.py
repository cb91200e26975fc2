"""OpenID Connect sign-in without a provider: off unless configured, settings checked, the
sign-in's flow cookie tamper-proof, a provider that cannot be reached told plainly, the admin
claim read as documented. The flow against a real provider: tests/integration/test_oidc_signin.py.
"""

from __future__ import annotations

import html
import logging
import time
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
from pydantic import ValidationError
from tests.support.live_server import free_port
from tests.support.service import api_client, service_settings

from iris3d.api import oidc_flow
from iris3d.api.app import create_app
from iris3d.api.oidc import is_admin_by_claims
from iris3d.api.oidc_flow import SignInError, new_flow, open_flow, seal_flow
from iris3d.api.routes.oidc import CallbackQueryRedacted
from iris3d.settings import Settings
from iris3d.store import identities, users
from iris3d.store.database import database_url, open_database
from iris3d.store.models import utcnow

KEY = "k" * 40


def test_without_an_issuer_there_is_no_provider(tmp_path: Path) -> None:
    with api_client(service_settings(tmp_path)) as client:
        assert client.get("/api/auth/providers").json() == []
        for path in ("/api/auth/oidc/login", "/api/auth/oidc/callback?code=x&state=y"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 404
            assert response.json() == {"detail": "No identity provider is configured here."}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"oidc_issuer": "http://idp.example.org"}, "must be an https:// URL"),
        ({"oidc_issuer": "ftp://127.0.0.1"}, "must be an https:// URL"),
        ({"oidc_issuer": "https://idp.example.org"}, "IRIS_OIDC_CLIENT_ID is needed"),
        (
            {"oidc_issuer": "https://idp.example.org", "oidc_client_id": "iris",
             "oidc_scopes": "email profile"},
            "must include openid",
        ),
        (
            {"oidc_issuer": "https://idp.example.org", "oidc_client_id": "iris",
             "oidc_client_secret": "change-me", "env": "production", "secret_key": KEY},
            "IRIS_OIDC_CLIENT_SECRET is an example value",
        ),
    ],
)
def test_settings_refuse_an_incomplete_or_unsafe_provider(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**values)  # type: ignore[arg-type]


def test_loopback_issuers_may_be_plain_http() -> None:
    settings = Settings(oidc_issuer="http://localhost:8080/realms/x", oidc_client_id="iris")
    assert settings.oidc_issuer == "http://localhost:8080/realms/x"


def test_the_flow_cookie_is_signed_short_lived_and_whole() -> None:
    flow = new_flow("https://iris.example.org/api/auth/oidc/callback", "user-1")
    assert open_flow(KEY, seal_flow(KEY, flow)) == flow
    assert len({flow.state, flow.nonce, flow.verifier}) == 3 and len(flow.verifier) >= 43
    sealed = seal_flow(KEY, flow)
    header, payload, signature = sealed.split(".")
    forged = f"{header}.{payload[:-2]}AA.{signature}"
    for bad in (forged, seal_flow("another key" * 4, flow), "", None, "not.a.token"):
        with pytest.raises(SignInError, match="expired or began in another browser"):
            open_flow(KEY, bad)
    with mock.patch.object(
        oidc_flow.time, "time", return_value=time.time() - oidc_flow.FLOW_TTL_S - 1
    ):
        old = seal_flow(KEY, replace(flow, link_user_id=None))
    with pytest.raises(SignInError, match="expired"):
        open_flow(KEY, old)


def test_a_provider_that_cannot_be_reached_is_told_plainly(tmp_path: Path) -> None:
    settings = service_settings(
        tmp_path, oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="iris",
        oidc_display_name="St Elsewhere",
    )
    with api_client(settings) as client:
        response = client.get("/api/auth/oidc/login", follow_redirects=False)
        assert response.status_code == 502
        assert response.headers["content-type"].startswith("text/html")
        assert "St Elsewhere cannot be reached" in html.unescape(response.text)
        assert client.get("/readyz").status_code == 200


def test_a_callback_without_the_flow_cookie_is_refused(tmp_path: Path) -> None:
    settings = service_settings(
        tmp_path, oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="iris"
    )
    with api_client(settings) as client:
        response = client.get("/api/auth/oidc/callback?code=abc&state=def")
        assert response.status_code == 400
        assert "start it again" in response.text
        assert "iris_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("claims", "value", "expected"),
    [
        ({"groups": ["a", "iris-admins"]}, "iris-admins", True),
        ({"groups": ["a"]}, "iris-admins", False),
        ({"groups": "iris-admins"}, "iris-admins", True),
        ({"groups": "iris-admins-not"}, "iris-admins", False),
        ({}, "iris-admins", False),
        ({"groups": ["iris-admins"]}, None, None),
    ],
)
def test_the_admin_claim(claims: dict[str, object], value: str | None, expected: bool) -> None:
    assert is_admin_by_claims(claims, "groups", value) is expected


def test_an_account_without_a_password_refuses_every_password(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    with api_client(settings) as client:
        db = open_database(database_url(settings))
        with db.session() as session:
            identities.create_linked_user(
                session, "eve@hospital.test", "https://idp", "sub-1", is_admin=False, now=utcnow()
            )
        db.dispose()
        for password in ("!", users.NO_PASSWORD * 8, "correct horse battery"):
            response = client.post(
                "/api/auth/signin", json={"email": "eve@hospital.test", "password": password}
            )
            assert response.status_code in (401, 422)


def test_the_access_log_never_shows_the_callbacks_code_or_state() -> None:
    create_app(Settings())  # installs the filter on uvicorn's access logger
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/auth/oidc/callback?code=SECRET&state=S", "1.1", 303), None,
    )
    for log_filter in logging.getLogger("uvicorn.access").filters:
        assert log_filter.filter(record)  # type: ignore[union-attr]
    line = record.getMessage()
    assert "SECRET" not in line and "state=S" not in line
    assert line == '127.0.0.1:5 - "GET /api/auth/oidc/callback?(redacted) HTTP/1.1" 303'
    other = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("a", "GET", "/api/x?y=1"), None
    )
    CallbackQueryRedacted().filter(other)
    assert other.getMessage() == "a GET /api/x?y=1"
