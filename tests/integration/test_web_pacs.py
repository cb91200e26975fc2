"""Import from PACS in a real browser (headless Chromium) against a real ``iris serve`` in
production mode and a real Orthanc: add the server, search, import a series asking for its
results back, watch it become a processed study in the list, and find its DICOM-SEG in the
CT's study in Orthanc."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.browser import browser_available, chromium, enter, watched_page, web_built
from tests.support.live_server import LiveService
from tests.support.orthanc import Orthanc, orthanc_server, store_instances
from tests.support.requirements import require

from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    env = {
        "IRIS_ENV": "production",
        "IRIS_SECRET_KEY": "Pq8Lm3Zx7Nc2Vb6Kj4Hg9Fd5Sa1Qw8Er3Ty7Ui2Op6As",
        "IRIS_COOKIE_SECURE": "false",  # plain http on loopback
        "IRIS_PACS_SEND_INTERVAL_S": "0.5",
        "IRIS_PACS_USER_SERVERS": "true",  # off by default in production: Iris's network
    }
    live = LiveService(tmp_path_factory.mktemp("webpacs") / "data", workers=1, **env)
    live.start()
    yield live
    live.stop()


def test_import_a_series_from_orthanc(
    service: LiveService, tmp_path: Path, small_phantom: Phantom
) -> None:
    paths = write_dicom_series(small_phantom.ct, tmp_path / "series",
                               series_description="Thorax web")
    guarded = {"username": "iris", "password": "web-pass-3"}
    with (
        orthanc_server(tmp_path / "pacs", **guarded) as orthanc,
        chromium() as browser,
        service.explained(),
    ):
        store_instances(orthanc, paths)
        page, errors = watched_page(browser, viewport={"width": 1280, "height": 900})
        enter(page, service.url, "webpacs@example.org", "correct horse battery", new_account=True)
        page.click("text=Import from PACS")
        page.wait_for_selector("text=No PACS yet")
        page.click("text=Add a server")
        page.fill("[aria-label='Server name']", "Orthanc")
        page.fill("[aria-label='DICOMweb address']", orthanc.dicomweb_url)
        page.select_option("[aria-label='Authentication']", "basic")
        page.fill("[aria-label='PACS user']", "iris")
        page.fill("[aria-label='PACS password or token']", "web-pass-3")
        page.click("text=Add server")
        page.wait_for_selector("[data-testid=pacs-server] option:text('Orthanc')", state="attached")

        page.fill("[aria-label='Description']", "thorax")
        page.click(".pacs-search button")
        row = page.wait_for_selector(".pacs-results li")
        assert row is not None and "Thorax web" in row.inner_text()
        assert "Phantom^Iris" in row.inner_text()  # shown to the user, kept nowhere
        page.check("[data-testid=pacs-send-results]")
        row.query_selector("button").click()  # type: ignore[union-attr]
        page.wait_for_selector(".pacs [role=status]:has-text('go back to the PACS when done')")
        page.wait_for_selector(".study.state-done", timeout=240_000)
        assert page.locator(".study").count() == 1
        assert "Phantom" not in page.inner_text(".studies")
        assert errors == []
        _wait_for_seg_in_orthanc(orthanc)


def _wait_for_seg_in_orthanc(orthanc: Orthanc, timeout_s: float = 60) -> None:
    """Until Orthanc holds one patient and one study with the CT and its SEG (the results were
    filed with the CT's patient)."""
    deadline = time.monotonic() + timeout_s
    with orthanc.client() as pacs:
        while time.monotonic() < deadline:
            series = pacs.get("/series", params={"expand": "true"}).json()
            modalities = sorted(s["MainDicomTags"]["Modality"] for s in series)
            if {"SEG", "SR"} <= set(modalities):  # one STOW-RS request, stored one by one
                assert modalities == ["CT", "SEG", "SR"]
                assert len(pacs.get("/patients").json()) == len(pacs.get("/studies").json()) == 1
                return
            time.sleep(0.1)
    raise AssertionError(f"Orthanc had no SEG {timeout_s} s after the job was done")
