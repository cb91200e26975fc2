"""The account page and quota refusals in a real browser (headless Chromium) against a real
``iris serve`` in production mode, with the Content-Security-Policy enforced: limits and their use,
an API token made and revoked, the password changed, and an upload over the quota explained."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.browser import browser_available, chromium, enter, watched_page, web_built
from tests.support.live_server import LiveService
from tests.support.requirements import require

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    env = {
        "IRIS_ENV": "production",
        "IRIS_SECRET_KEY": "Vb7Qp2Lk9Jh5Gf3Ds8Wq4Rt7Yp2Lk9Jh5Gf3Ds8Wz",
        "IRIS_COOKIE_SECURE": "false",  # plain http on loopback
        "IRIS_QUOTA_STUDIES": "1",
    }
    live = LiveService(tmp_path_factory.mktemp("account") / "data", workers=0, **env)
    live.start()
    yield live
    live.stop()


def test_limits_tokens_and_password_on_the_account_page(
    service: LiveService, tmp_path: Path
) -> None:
    study = write_nifti(
        make_phantom(shape=(24, 20, 16), spacing=(8.0, 8.0, 8.0)).ct, tmp_path / "ct.nii.gz"
    )
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport={"width": 1280, "height": 800})
        enter(page, service.url, "acc@example.org", PASSWORD, new_account=True)
        page.set_input_files("#file-input", str(study))
        page.wait_for_selector(".study .name")
        page.set_input_files("#file-input", str(study))
        refusal = page.wait_for_selector(".upload-status.error")
        assert refusal is not None and "Quota reached" in refusal.inner_text()
        assert "your limit is 1" in refusal.inner_text()

        page.click("a.user")
        page.wait_for_selector("tr[data-quota=studies]")
        assert page.inner_text("tr[data-quota=studies]").split() == ["Studies", "1", "1"]
        page.fill("#token-name", "nightly export")
        page.click("#token-form button")
        page.wait_for_selector("text=API token “nightly export”")
        secret = page.inner_text("#new-token").rsplit(" ", 1)[-1]
        with httpx.Client(base_url=service.url) as http:
            me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 200
            page.click("button[aria-label='Revoke nightly export']")
            page.wait_for_selector("text=API token “nightly export”", state="detached")
            me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 401

        # A receive token for a PACS: listed, and it opens STOW-RS only.
        page.fill("#receive-token-name", "Orthanc")
        page.click("#receive-token-form button")
        page.wait_for_selector("tr[data-receive-token]:has-text('“Orthanc”')")
        receive = page.inner_text("#new-receive-token").rsplit(" ", 1)[-1]
        with httpx.Client(base_url=service.url) as http:
            bearer = {"Authorization": f"Bearer {receive}"}
            assert http.get("/api/auth/me", headers=bearer).status_code == 401
            related = 'multipart/related; type="application/dicom"; boundary=x'
            stow = http.post("/dicom-web/studies", content=b"",
                             headers={**bearer, "Content-Type": related})
            assert stow.status_code != 401, stow.text
        page.select_option("#rule-quality", "normal")
        page.click("#rule-form button")
        page.wait_for_selector("text=Rule saved.")

        page.fill("#current-password", "not my password")
        page.fill("#new-password", "a better passphrase")
        page.click("#password-form button")
        page.wait_for_selector("#password-form .form-error:text('current password is wrong')")
        page.fill("#current-password", PASSWORD)
        page.click("#password-form button")
        page.wait_for_selector("text=Password changed")
        page.click("#signout-everywhere")
        page.wait_for_selector("#email")
        # The two refusals above are 403s the browser logs; nothing else (no policy violation).
        unexpected = [e for e in errors if "status of 403" not in e]
        assert unexpected == [] and len(errors) == 2, errors
