"""Sign-in with the institution in a real browser (headless Chromium) against a real ``iris serve``
in production mode and a real OpenID provider on another site (localhost, Iris on 127.0.0.1):
the button, the provider's login form, back signed in with the same session cookie a password
sign-in sets; signing in again finds the same account; a refused sign-in says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.browser import browser_available, chromium, enter, watched_page, web_built
from tests.support.live_server import LiveService
from tests.support.oidc_provider import (
    ADMINS,
    provider_available,
    running_provider,
)
from tests.support.requirements import require

from iris3d.api.security import Passwords
from iris3d.store import users
from iris3d.store.database import open_database

pytestmark = pytest.mark.slow
ACCOUNTS = {
    "alice": {"email": "alice@hospital.test", "groups": [ADMINS]},
    "mallory": {"email": "mallory@hospital.test", "tamper": "audience"},
    "carol": {"email": "carol@hospital.test", "groups": []},
}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveService, Path]]:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    require(provider_available(), "needs node and `npm ci --prefix tests/oidc`")
    work = tmp_path_factory.mktemp("web-oidc")
    env = {
        "IRIS_ENV": "production",
        "IRIS_SECRET_KEY": "Hq7Wm2Kp9Lx4Rv8Nc3Tz6Yb1Fd5Gs0Ja",
        "IRIS_COOKIE_SECURE": "false",  # plain http on loopback
        "IRIS_SIGNUP_MODE": "closed",  # the provider's users get accounts all the same
    }
    live = LiveService(work / "data", workers=0, **env)
    callback = f"{live.url}/api/auth/oidc/callback"
    with running_provider(work, [callback], ACCOUNTS) as provider:
        live.env.update(provider.environment())
        live.start()
        try:
            yield live, work
        finally:
            live.stop()


def _iris_errors(browser: Any, live: LiveService) -> tuple[Any, list[str]]:
    """A new page, and the errors logged on Iris's pages (the provider's own login page loads
    a web font this machine cannot resolve: not Iris's business)."""
    page, _ = watched_page(browser, viewport={"width": 1280, "height": 800})
    errors: list[str] = []

    def note(message: Any) -> None:
        if message.type == "error" and message.location.get("url", "").startswith(live.url):
            errors.append(message.text)

    page.on("console", note)
    return page, errors


def _sign_in_with_the_provider(page: Any, url: str, login: str) -> None:
    page.goto(f"{url}/signin")
    page.click("a.provider:text('Sign in with Test Hospital')")
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "anything")
    page.click("button[type=submit]")


def test_sign_in_with_the_institution_in_a_browser(served: tuple[LiveService, Path]) -> None:
    live, _ = served
    with chromium() as browser, live.explained():
        page, errors = _iris_errors(browser, live)
        _sign_in_with_the_provider(page, live.url, "alice")
        page.wait_for_selector("text=New study")
        assert page.url == f"{live.url}/"
        me = page.evaluate("fetch('/api/auth/me').then((r) => r.json())")
        assert me["email"] == "alice@hospital.test" and me["is_admin"] is True
        cookies = {c["name"]: c for c in page.context.cookies(live.url)}
        session = cookies["iris_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert "iris_oidc_flow" not in cookies  # used once, then gone

        # Another browser (no session anywhere): the same person reaches the same account.
        again, again_errors = _iris_errors(browser, live)
        _sign_in_with_the_provider(again, live.url, "alice")
        again.wait_for_selector("text=New study")
        assert again.evaluate("fetch('/api/auth/me').then((r) => r.json())")["id"] == me["id"]
        assert errors == [] and again_errors == []


def test_a_refused_sign_in_says_why_and_signs_nobody_in(served: tuple[LiveService, Path]) -> None:
    live, _ = served
    with chromium() as browser, live.explained():
        page, _errors = watched_page(browser)
        _sign_in_with_the_provider(page, live.url, "mallory")
        reason = page.wait_for_selector("#reason")
        assert reason is not None
        assert "wrong audience" in reason.inner_text()
        page.click("text=Back to the sign-in page")
        page.wait_for_selector("#email")
        status = page.evaluate("fetch('/api/auth/me').then((r) => r.status)")
        assert status == 401


def test_no_button_without_a_provider(tmp_path: Path) -> None:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    live = LiveService(tmp_path / "data", workers=0)
    live.start()
    try:
        with chromium() as browser:
            page, errors = watched_page(browser)
            page.goto(f"{live.url}/signin")
            page.wait_for_selector("#email")
            page.wait_for_load_state("networkidle")
            assert page.query_selector("a.provider") is None
            assert errors == []
    finally:
        live.stop()


def _local_account(live: LiveService, email: str) -> str:
    """An account with a password, made on the server (sign-up is closed here)."""
    db = open_database(f"sqlite:///{live.data_dir / 'iris.db'}")
    try:
        with db.session() as session:
            return users.create_user(session, email, Passwords().hash(PASSWORD), is_admin=False).id
    finally:
        db.dispose()


def test_a_local_account_links_its_provider_account_on_the_account_page(
    served: tuple[LiveService, Path],
) -> None:
    live, _ = served
    local_id = _local_account(live, "carol@hospital.test")
    with chromium() as browser, live.explained():
        page, errors = _iris_errors(browser, live)
        # Same e-mail, not linked: the provider's account does not take the local one over.
        _sign_in_with_the_provider(page, live.url, "carol")
        reason = page.wait_for_selector("#reason")
        assert reason is not None and "already exists and is not linked" in reason.inner_text()

        enter(page, live.url, "carol@hospital.test", PASSWORD, new_account=False)
        page.click("a.user")
        page.click("#sign-in-with a.provider:text('Link your Test Hospital account')")
        page.wait_for_selector("tr[data-quota=studies]")  # back on the account page
        assert page.url == f"{live.url}/account"

        fresh, fresh_errors = _iris_errors(browser, live)
        _sign_in_with_the_provider(fresh, live.url, "carol")
        fresh.wait_for_selector("text=New study")
        assert fresh.evaluate("fetch('/api/auth/me').then((r) => r.json())")["id"] == local_id
        assert [e for e in errors if "status of 409" not in e] == [] and fresh_errors == []
