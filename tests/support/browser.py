"""Headless Debian Chromium driven by Playwright for Python (never ``playwright install``: the
system browser is used), for the web app's end-to-end tests and benchmark."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


def browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists() and shutil.which("node") is not None


def web_built() -> bool:
    return (WEB_DIST / "index.html").is_file()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def watched_page(browser: Any, **options: Any) -> tuple[Any, list[str]]:
    """A new page, and the list its console errors and uncaught exceptions are added to."""
    page = browser.new_page(**options)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def wait_until(page: Any, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until ``expression`` is true in the page. Playwright's ``wait_for_function`` compiles
    its predicate with ``eval`` inside the page, which the app's Content-Security-Policy
    (rightly) forbids; ``evaluate`` goes through the DevTools protocol, which the policy allows."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true in the page: {expression}")
        page.wait_for_timeout(50)


def enter(page: Any, url: str, email: str, password: str, *, new_account: bool) -> None:
    """Sign up (``new_account``) or sign in through the web app's form, and wait for the list."""
    page.goto(f"{url}/{'signup' if new_account else 'signin'}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("text=New study")


def _rgb(png: bytes) -> Any:
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def colourful_pixels(png: bytes, saturation: int = 60) -> int:
    """Pixels that are clearly coloured (an organ), not grey background or white text."""
    rgb = _rgb(png)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    return int((spread > saturation).sum())


def reddish_pixels(png: bytes, margin: int = 40) -> int:
    """Pixels whose red clearly exceeds green and blue (growth on the comparison's scale)."""
    rgb = _rgb(png)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > g + margin) & (r > b + margin)).sum())
