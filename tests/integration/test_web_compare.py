"""Comparing two studies in a real browser (headless Chromium) against a real ``iris serve``: a
phantom and its follow-up (liver grown 20 %, left kidney removed, patient moved), processed with
their own label maps; the comparison started from the studies page, its progress, the table,
CSV, linked side-by-side views, the overlay coloured by surface change, the alignment warning,
another user kept out, and deleting it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.browser import (
    browser_available,
    chromium,
    colourful_pixels,
    enter,
    reddish_pixels,
    wait_until,
    watched_page,
    web_built,
)
from tests.support.live_server import LiveService, wait_for
from tests.support.requirements import require

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.phantom.pair import make_follow_up

pytestmark = pytest.mark.slow
EMAIL = "dana@example.org"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Studies:
    before: str
    after: str
    token: str


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    live = LiveService(tmp_path_factory.mktemp("web-compare") / "data", workers=1)
    live.start()
    yield live
    live.stop()


def _process(http: httpx.Client, folder: Path, name: str, phantom: Any) -> str:
    """Upload a CT with its own label map and process it with the import engine."""
    ct = write_nifti(phantom.ct, folder / f"{name}.nii.gz").read_bytes()
    labels = write_nifti(phantom.labels, folder / f"{name}-labels.nii.gz").read_bytes()
    files = [("files", (f"{name}.nii.gz", ct, "application/octet-stream"))]
    study = http.post("/api/studies", files=files, data={"name": name})  # named by the user
    assert study.status_code == 201, study.text
    study_id: str = study.json()["id"]
    segmentation = [("file", ("labels.nii.gz", labels, "application/gzip"))]
    attached = http.put(f"/api/studies/{study_id}/segmentation", files=segmentation)
    assert attached.status_code == 200, attached.text
    job = http.post("/api/jobs", json={"study_id": study_id, "engine": "import", "quality": "fast"})
    assert job.status_code == 201, job.text
    return study_id


@pytest.fixture(scope="module")
def studies(service: LiveService, tmp_path_factory: pytest.TempPathFactory) -> Studies:
    folder = tmp_path_factory.mktemp("pair")
    base = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    follow = make_follow_up(base, grow={"liver": 1.2}, remove=["kidney_left"],
                            rotation_deg=(3.0, -2.0, 4.0), shift_mm=(8.0, -5.0, 12.0))
    token = service.sign_up(EMAIL, PASSWORD)
    with service.client(token) as http:
        # The baseline is uploaded first: the dialog proposes it as "before".
        ids = Studies(_process(http, folder, "baseline", base),
                      _process(http, folder, "followup", follow), token)
        for study_id in (ids.before, ids.after):
            job = http.get(f"/api/studies/{study_id}").json()["latest_job"]
            done = wait_for(http, job["id"], {"done", "failed"}, timeout_s=60)
            assert done["state"] == "done", done["error"]
    return ids


def _structures(page: Any) -> list[str]:
    names: list[str] = page.eval_on_selector_all(
        "table.changes tbody tr", "rows => rows.map(r => r.dataset.structure)")
    return names


def _shot(page: Any, selector: str) -> bytes:
    page.wait_for_timeout(250)  # frames are drawn on the next animation frame
    png: bytes = page.locator(selector).screenshot()
    return png


def test_a_user_compares_two_studies(
    service: LiveService, studies: Studies, tmp_path: Path
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(
            browser, viewport={"width": 1280, "height": 760}, accept_downloads=True
        )
        page.on("dialog", lambda d: d.accept())  # confirm() before deleting
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        page.wait_for_selector(f".study[data-study='{studies.after}'] .job-status[data-state=done]")
        page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads

        # Started from the later study: the earlier one is still proposed as the baseline.
        page.click(f".study[data-study='{studies.after}'] button:text('Compare…')")
        page.wait_for_selector("dialog.compare-dialog[open]")
        assert page.inner_text("[data-testid=compare-before]") == "baseline"
        assert page.inner_text("[data-testid=compare-after]") == "followup"
        page.screenshot(path=str(tmp_path / "dialog.png"))
        page.click("button[aria-label='Swap before and after']")
        assert page.inner_text("[data-testid=compare-before]") == "followup"
        page.click("button[aria-label='Swap before and after']")
        page.click("dialog button[type=submit]")

        page.wait_for_url(re.compile(r"/comparisons/[\w-]+$"))
        comparison_id = page.url.rsplit("/", 1)[-1].split("?")[0]
        title = page.inner_text("[data-testid=compare-title]")
        assert re.fullmatch(r"baseline \(before\)\s*→\s*followup \(after\)", title), title
        # Progress comes through the job's event stream, until the results replace it.
        first_state = page.get_attribute(".compare-status", "data-state")
        page.wait_for_selector("body[data-compare-ready]", timeout=60_000)
        assert page.evaluate("window.__sameDocument === true")
        assert first_state in {"queued", "running", "done"}, first_state
        assert page.get_attribute(".verdict", "data-verdict") in {"good", "fair"}
        page.screenshot(path=str(tmp_path / "comparison.png"))

        # The table: liver grew by about 20 %, the left kidney disappeared.
        liver = page.locator("tr[data-structure=liver]")
        assert "Liver" in liver.inner_text()
        percent = liver.locator("td[data-column=change_percent]").inner_text()
        value = float(percent.replace("−", "-").replace("%", "").strip())
        assert 15 < value < 25, percent
        kidney = page.locator("tr[data-structure=kidney_left]")
        assert kidney.locator(".badge.disappeared").inner_text() == "Disappeared"
        assert "Kidney left" in kidney.inner_text()
        default_order = _structures(page)
        # Largest change (in mL, growth or shrinkage) first.
        assert default_order[:2] == ["liver", "kidney_left"], default_order
        page.click("th button[data-sort=name]")
        by_name = _structures(page)
        assert by_name != default_order
        assert by_name == sorted(by_name, key=lambda n: n.replace("_", " ").lower())
        wait_until(page, "location.search.includes('sort=name')")
        page.click("button[role=tab]:text('Chart')")
        bar = page.locator(".chart-row[data-structure=liver] .chart-bar")
        assert "left:50%" in (bar.get_attribute("style") or "").replace(" ", "")  # grew: right
        page.locator(".changes-panel").screenshot(path=str(tmp_path / "chart.png"))
        page.click("button[role=tab]:text('Table')")

        with page.expect_download() as download:
            page.click("a[data-artifact=comparison_csv]")
        csv_text = Path(download.value.path()).read_text()
        assert csv_text.startswith("name,group,status,") and "\nliver," in csv_text

        # Side by side: both models drawn; orbiting the left camera turns the right one too.
        left, right = ".viewport[data-side=before] canvas", ".viewport[data-side=after] canvas"
        assert colourful_pixels(_shot(page, left)) > 1500, "no organ pixels in the baseline view"
        before_orbit = _shot(page, right)
        assert colourful_pixels(before_orbit) > 1500, "no organ pixels in the follow-up view"
        box = page.locator(left).bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 120, y + 20, steps=6)
        page.mouse.up()
        assert _shot(page, right) != before_orbit, "orbiting the left view did not move the right"
        # Picking in 3D isolates a structure in both views; Esc shows everything again.
        page.mouse.click(x, y)
        page.wait_for_selector("table.changes tr.selected")
        picked = page.get_attribute("table.changes tr.selected", "data-structure")
        assert page.inner_text(".pick-info").lower().startswith(picked.replace("_", " "))
        page.keyboard.press("Escape")
        page.wait_for_selector("table.changes tr.selected", state="detached")

        # Overlay: the grown liver alone, coloured by its surface's change; a colour bar in mm.
        page.click("button[data-mode=overlay]")
        page.wait_for_selector(".viewport[data-side=after][data-ghost=ready][data-painted=change]")
        assert page.locator(".viewport[data-side=before]").is_hidden()
        page.click("tr[data-structure=liver] button.link")
        wait_until(page, "location.search.includes('sel=liver')")
        grown = _shot(page, right)
        page.screenshot(path=str(tmp_path / "overlay-liver.png"))
        assert page.locator(".colour-bar").is_visible()
        assert "Surface change (mm)" in page.inner_text(".colour-bar")
        assert page.locator(".colour-ticks .tick").count() >= 3
        # On a ±50 mm scale the same few mm of growth are nearly white: the red is the change.
        page.select_option("select[aria-label='Colour scale range']", "50")
        washed = _shot(page, right)
        assert reddish_pixels(grown) > 500, "the grown liver is not drawn in red"
        assert reddish_pixels(grown) > 2 * reddish_pixels(washed), "the colour is not by distance"
        assert page.inner_text(".pick-info").startswith("Liver")

        # The view is in the URL: opening it again restores overlay, selection and scale.
        page.reload()
        page.wait_for_selector(".viewport[data-side=after][data-painted=change]", timeout=60_000)
        assert page.get_attribute("button[data-mode=overlay]", "aria-pressed") == "true"
        assert page.locator("tr.selected[data-structure=liver]").count() == 1

        # A poor alignment is said plainly, above everything else.
        def poor(route: Any) -> None:
            document = json.loads(route.fetch().text())
            document["alignment"]["verdict"] = "poor"
            route.fulfill(json=document)

        page.route("**/artifacts/comparison_json", poor)
        page.reload()
        page.wait_for_selector(".verdict.poor[role=alert]")
        assert "Poor alignment" in page.inner_text(".verdict")
        page.unroute("**/artifacts/comparison_json")

        # Another user cannot open it.
        other = browser.new_page()
        other_token = service.sign_up("eve@example.org", PASSWORD)
        assert other_token
        enter(other, service.url, "eve@example.org", PASSWORD, new_account=False)
        other.goto(f"{service.url}/comparisons/{comparison_id}")
        other.wait_for_selector("text=Comparison not found")
        assert "baseline" not in other.inner_text("main")
        other.close()

        # Both studies list it; deleting it from one removes it from both.
        page.click("a.brand")
        page.wait_for_selector(".study")
        assert page.locator("canvas").count() == 0, "the comparison's WebGL canvases outlived it"
        for study_id in (studies.before, studies.after):
            item = page.locator(
                f".study[data-study='{study_id}'] .comparison[data-comparison='{comparison_id}']"
            )
            assert item.locator(".comparison-status").get_attribute("data-state") == "done"
        page.screenshot(path=str(tmp_path / "studies.png"))
        page.click(f".study[data-study='{studies.before}'] .comparison button:text('Delete')")
        page.wait_for_selector(".comparison", state="detached")

        # One started elsewhere (here: the API) shows up on both studies and finishes live.
        page.evaluate("window.__sameDocument = true")
        with service.client(studies.token) as http:
            body = {"base_study_id": studies.after, "follow_study_id": studies.before}
            created = http.post("/api/comparisons", json=body)
            assert created.status_code == 201, created.text
        again = created.json()["id"]
        for study_id in (studies.before, studies.after):
            page.wait_for_selector(
                f".study[data-study='{study_id}'] .comparison[data-comparison='{again}'] "
                ".comparison-status[data-state=done]",
                timeout=60_000,
            )
        # ...and one deleted elsewhere leaves both studies without a reload.
        with service.client(studies.token) as http:
            assert http.delete(f"/api/comparisons/{again}").status_code == 204
        page.wait_for_selector(f".comparison[data-comparison='{again}']", state="detached")
        assert page.evaluate("window.__sameDocument === true")
        assert errors == [], errors
