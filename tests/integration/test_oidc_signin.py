"""Sign-in with the institution against a real OpenID provider (node-oidc-provider): the app's
routes take the browser's part over HTTP. Refused: an ID token for another audience, expired,
from another issuer, with another nonce or signed by another key, and a state that does not
match; accounts are linked by the provider's subject, never taken over by e-mail."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.support.oidc_provider import (
    ADMINS,
    RunningProvider,
    provider_available,
    running_provider,
    sign_in_at_provider,
)
from tests.support.requirements import require
from tests.support.service import PASSWORD, api_client, service_settings

from iris3d.store import users
from iris3d.store.database import database_url, open_database

pytestmark = pytest.mark.slow
CALLBACK = "http://testserver/api/auth/oidc/callback"
LONG_SUBJECT = "s" * 256  # OpenID Connect allows 255 characters
ACCOUNTS = {
    "alice": {"email": "alice@hospital.test", "groups": [ADMINS, "radiology"]},
    "bob": {"email": "bob@hospital.test", "groups": ["radiology"]},
    "dora": {"email": "dora@hospital.test"},
    "no-mail": {"groups": ["radiology"]},
    LONG_SUBJECT: {"email": "long@hospital.test"},
    **{
        f"tamper-{how}": {"email": f"{how}@hospital.test", "tamper": how}
        for how in ("audience", "expired", "issuer", "nonce", "signature")
    },
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    require(provider_available(), "needs node and `npm ci --prefix tests/oidc`")
    with running_provider(tmp_path_factory.mktemp("idp"), [CALLBACK], ACCOUNTS) as running:
        yield running


@pytest.fixture
def client(provider: RunningProvider, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(service_settings(tmp_path, **provider.settings())) as client:
        yield client


def start(client: TestClient, **params: str) -> str:
    """Ask Iris to sign in with the provider; the provider URL the browser is sent to."""
    response = client.get("/api/auth/oidc/login", params=params, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def come_back(client: TestClient, callback_url: str) -> httpx.Response:
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def reason_of(page: httpx.Response) -> str:
    """The reason a failure page gives, as a person reads it."""
    return html.unescape(page.text)


def sign_in(client: TestClient, login: str) -> httpx.Response:
    return come_back(client, sign_in_at_provider(start(client), login))


def test_the_web_app_is_told_of_the_provider(client: TestClient) -> None:
    providers = client.get("/api/auth/providers").json()
    assert providers == [
        {
            "kind": "oidc",
            "name": "Test Hospital",
            "login_url": "/api/auth/oidc/login",
            "link_url": "/api/auth/oidc/login?link=1",
        }
    ]


def test_the_request_carries_state_nonce_and_pkce_s256(client: TestClient) -> None:
    response = client.get("/api/auth/oidc/login", follow_redirects=False)
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["response_type"] == ["code"] and query["client_id"] == ["iris-test"]
    assert query["redirect_uri"] == [CALLBACK]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/api/auth/oidc" in cookie
    assert query["state"][0] not in cookie  # the flow is signed, not the state in the clear


def test_a_first_sign_in_makes_an_account_and_a_second_finds_it(client: TestClient) -> None:
    first = sign_in(client, "alice")
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "iris_session=" in first.headers["set-cookie"]
    me = client.get("/api/auth/me").json()
    assert me["email"] == "alice@hospital.test" and me["is_admin"] is True
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401
    assert sign_in(client, "alice").status_code == 303
    assert client.get("/api/auth/me").json()["id"] == me["id"]
    # No password was made for the account: none signs in to it.
    refused = client.post("/api/auth/signin", json={"email": me["email"], "password": "!"})
    assert refused.status_code in (401, 422)


def test_the_admin_flag_follows_the_claim_at_each_sign_in(
    client: TestClient, provider: RunningProvider
) -> None:
    assert sign_in(client, "bob").status_code == 303
    assert client.get("/api/auth/me").json()["is_admin"] is False
    provider.set_account("bob", email="bob@hospital.test", groups=["radiology", ADMINS])
    try:
        client.cookies.clear()
        sign_in(client, "bob")
        assert client.get("/api/auth/me").json()["is_admin"] is True
    finally:
        provider.set_account("bob", **ACCOUNTS["bob"])
    client.cookies.clear()
    sign_in(client, "bob")
    assert client.get("/api/auth/me").json()["is_admin"] is False


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("tamper-audience", "it was issued for another client (wrong audience)"),
        ("tamper-expired", "it has expired"),
        ("tamper-issuer", "it comes from another issuer"),
        ("tamper-nonce", "its nonce is not this sign-in's"),
        ("tamper-signature", "its signature is not the provider's"),
        (LONG_SUBJECT, "it names no subject (or one over 255 characters)"),
    ],
)
def test_a_bad_id_token_is_refused(client: TestClient, login: str, reason: str) -> None:
    response = sign_in(client, login)
    assert response.status_code == 401, response.text
    assert f"Test Hospital's ID token was refused: {reason}." in reason_of(response)
    assert "iris_session=" not in response.headers.get("set-cookie", "")
    assert client.get("/api/auth/me").status_code == 401


def test_a_state_that_does_not_match_is_refused(client: TestClient) -> None:
    callback = sign_in_at_provider(start(client), "alice")
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    forged = come_back(client, f"{CALLBACK}?{urlencode({**query, 'state': 'x' * 43})}")
    assert forged.status_code == 400
    assert "state does not match" in reason_of(forged)
    assert client.get("/api/auth/me").status_code == 401
    # The flow was used up by the refusal: the genuine answer no longer signs in either.
    replayed = come_back(client, callback)
    assert replayed.status_code == 400 and "start it again" in reason_of(replayed)


def test_an_answer_for_another_browser_is_refused(
    client: TestClient, provider: RunningProvider, tmp_path: Path
) -> None:
    callback = sign_in_at_provider(start(client), "alice")
    settings = service_settings(tmp_path / "other", **provider.settings())
    with api_client(settings) as other_browser:
        response = come_back(other_browser, callback)
        assert response.status_code == 400
        assert "began in another browser" in reason_of(response)


def test_the_provider_saying_no_is_told_plainly(client: TestClient) -> None:
    query = parse_qs(urlsplit(start(client)).query)
    denied = f"{CALLBACK}?error=access_denied&error_description=<b>no</b>&state={query['state'][0]}"
    response = come_back(client, denied)
    assert response.status_code == 403
    assert "Test Hospital did not sign you in (access_denied)." in reason_of(response)
    assert "<b>" not in response.text


def test_a_local_account_with_the_same_email_is_not_taken_over(client: TestClient) -> None:
    body = {"email": "bob@hospital.test", "password": PASSWORD}
    assert client.post("/api/auth/register", json=body).status_code == 201
    client.cookies.clear()
    response = sign_in(client, "bob")
    assert response.status_code == 409
    assert "already exists and is not linked" in reason_of(response)
    assert client.get("/api/auth/me").status_code == 401
    # Its owner signs in with the password and links the provider's account on purpose.
    local = client.post("/api/auth/signin", json=body).json()["user"]
    linked = come_back(client, sign_in_at_provider(start(client, link="1"), "bob"))
    assert linked.status_code == 303 and linked.headers["location"] == "/account"
    client.cookies.clear()
    assert sign_in(client, "bob").status_code == 303
    assert client.get("/api/auth/me").json()["id"] == local["id"]
    # The password still works; a provider account with an Iris account of its own stays there.
    client.cookies.clear()
    assert sign_in(client, "alice").status_code == 303
    assert client.post("/api/auth/signin", json=body).status_code == 200
    taken = come_back(client, sign_in_at_provider(start(client, link="1"), "alice"))
    assert taken.status_code == 409
    assert "already linked to another Iris account" in reason_of(taken)
    assert client.get("/api/auth/me").json()["id"] == local["id"]


def test_linking_needs_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/api/auth/oidc/login?link=1", follow_redirects=False)
    assert response.status_code == 401


def test_an_answer_naming_another_issuer_is_refused(client: TestClient) -> None:
    callback = sign_in_at_provider(start(client), "alice")
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert "iss" in query  # the provider says who answers (RFC 9207)
    mixed_up = {**query, "iss": "https://another-provider.example"}
    response = come_back(client, f"{CALLBACK}?{urlencode(mixed_up)}")
    assert response.status_code == 400
    assert "names another issuer" in reason_of(response)


def test_no_email_no_account(client: TestClient) -> None:
    response = sign_in(client, "no-mail")
    assert response.status_code == 400
    assert "Test Hospital sent no e-mail address" in reason_of(response)


def test_a_disabled_account_stays_out(client: TestClient, tmp_path: Path) -> None:
    assert sign_in(client, "dora").status_code == 303
    db = open_database(database_url(service_settings(tmp_path)))
    with db.session() as session:
        user = users.user_by_email(session, "dora@hospital.test")
        assert user is not None
        users.set_disabled(session, user, True)
    db.dispose()
    assert client.get("/api/auth/me").status_code == 401
    response = sign_in(client, "dora")
    assert response.status_code == 403 and "disabled" in reason_of(response)


def test_without_account_creation_only_linked_accounts_get_in(
    provider: RunningProvider, tmp_path: Path
) -> None:
    settings = service_settings(tmp_path, **provider.settings(oidc_create_accounts=False))
    with api_client(settings) as client:
        response = sign_in(client, "dora")
        assert response.status_code == 403
        assert "No Iris account is linked to this Test Hospital account" in reason_of(response)
        body = {"email": "someone@example.org", "password": PASSWORD}
        assert client.post("/api/auth/register", json=body).status_code == 201
        assert client.post("/api/auth/signin", json=body).status_code == 200
        linked = come_back(client, sign_in_at_provider(start(client, link="1"), "dora"))
        assert linked.status_code == 303
        client.cookies.clear()
        assert sign_in(client, "dora").status_code == 303
        assert client.get("/api/auth/me").json()["email"] == "someone@example.org"
