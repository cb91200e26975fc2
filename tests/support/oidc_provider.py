"""A real OpenID provider for the sign-in tests: node-oidc-provider (tests/oidc/provider.mjs,
installed by ``npm ci --prefix tests/oidc``) on a free loopback port, and the steps a person's
browser takes at it, done over HTTP (its development login form takes any password)."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "iris-test"
CLIENT_SECRET = "Zt8Kq3Vn6Wp1Xr4Ys7Bm2Lc5Hd9Fg0Jk"
ADMINS = "iris-admins"


def provider_available() -> bool:
    return shutil.which("node") is not None and (PROVIDER_DIR / "node_modules").is_dir()


@dataclass
class RunningProvider:
    issuer: str
    accounts_file: Path

    def set_account(self, login: str, **claims: Any) -> None:
        """Add or change an account (the provider reads the file at each sign-in)."""
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login] = claims
        self.accounts_file.write_text(json.dumps(accounts))

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Iris's settings for this provider (as keyword arguments of ``Settings``)."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_display_name": "Test Hospital",
            "oidc_scopes": "openid email groups",
            "oidc_admin_claim": "groups",
            "oidc_admin_value": ADMINS,
            **overrides,
        }

    def environment(self) -> dict[str, str]:
        return {f"IRIS_{name.upper()}": str(value) for name, value in self.settings().items()}


def _first_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            raise RuntimeError("the test OpenID provider did not start in time")
    return process.stdout.readline()


@contextmanager
def running_provider(
    work: Path, redirect_uris: list[str], accounts: dict[str, dict[str, Any]]
) -> Iterator[RunningProvider]:
    """Start the provider; its issuer is ``http://localhost:<port>``, another site than the
    127.0.0.1 of Iris's test servers, so a browser treats the sign-in as cross-site."""
    accounts_file = work / "accounts.json"
    accounts_file.write_text(json.dumps(accounts))
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "accounts_file": str(accounts_file),
    }
    log = (work / "provider.log").open("w")
    process = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "provider.mjs")],
        env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)},
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = _first_line(process, 30)
        if not line.startswith("issuer "):
            raise RuntimeError(f"the test OpenID provider failed: {line}")
        yield RunningProvider(line.split()[1], accounts_file)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def sign_in_at_provider(authorization_url: str, login: str) -> str:
    """What a browser does at the provider: follow it to its login form, sign in as ``login``,
    and follow it until it sends the browser back; the callback URL it sends it to."""
    with httpx.Client(timeout=30) as browser:
        url = authorization_url
        for _ in range(10):
            response = browser.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if "/api/auth/oidc/callback" in url:
                    return url
                continue
            form = re.search(r'action="([^"]+)"', response.text)
            assert response.status_code == 200 and form, response.text[:500]
            posted = browser.post(
                urljoin(url, form.group(1)),
                data={"prompt": "login", "login": login, "password": "any"},
            )
            assert posted.is_redirect, posted.text[:500]
            url = urljoin(url, posted.headers["location"])
        raise AssertionError(f"the provider never sent the browser back: {url}")
