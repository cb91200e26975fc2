"""The web app in a real browser (headless Chromium) against a real ``iris serve``: sign up,
upload a phantom, live progress to done, the 3D view, hiding a structure, statistics, the GLB
download, and a second user who cannot see the first user's study."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.support.browser import (
    browser_available,
    chromium,
    colourful_pixels,
    enter,
    wait_until,
    watched_page,
    web_built,
)
from tests.support.live_server import LiveService
from tests.support.requirements import require

from iris3d.export import read_glb
from iris3d.phantom import make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"
CHUNK = 4096


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    # Small chunks: the browser's resumable upload has to send several.
    live = LiveService(
        tmp_path_factory.mktemp("web") / "data", workers=1, IRIS_UPLOAD_CHUNK_BYTES=str(CHUNK)
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def phantom_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    phantom = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    return write_nifti(phantom.ct, tmp_path_factory.mktemp("study") / "phantom.nii.gz")


def bright_pixels(png: bytes) -> int:
    """Pixels clearly lighter than the slice view's dark background (CT drawn in grey)."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return int((image > 60).sum())


def test_a_user_uploads_watches_explores_and_downloads(
    service: LiveService, phantom_file: Path, tmp_path: Path
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(
            browser, viewport={"width": 1280, "height": 720}, accept_downloads=True
        )
        enter(page, service.url, "ana@example.org", PASSWORD, new_account=True)

        assert phantom_file.stat().st_size > 3 * CHUNK
        page.select_option("#engine", "tissue")
        page.set_input_files("#file-input", str(phantom_file))
        page.wait_for_selector(".study .name:text('CT · 64×56×48')")  # never the file's name
        # Progress arrives through the event stream only: the page is never reloaded.
        page.wait_for_selector(".job-status[data-state=done]", timeout=120_000)
        page.screenshot(path=str(tmp_path / "studies.png"))
        study_id = page.get_attribute(".study", "data-study")

        page.click("a:text('Open')")
        page.wait_for_selector("body[data-viewer-ready]", timeout=60_000)
        assert "tissue" in page.inner_text("[data-testid=engine-notice]").lower()
        canvas = page.locator(".viewport canvas")
        before = canvas.screenshot()
        page.screenshot(path=str(tmp_path / "viewer.png"))
        # The tissue engine's context (body, muscle) is one faint skin over the findings, whose
        # pale colours (lungs, bone) are less saturated than an organ's: 40, not the usual 60.
        assert colourful_pixels(before, saturation=40) > 2000, (
            "no organ-coloured pixels in the 3D view")

        # Muscle encloses the organs (and starts see-through): hiding it must show.
        muscles = page.locator(".group summary:has-text('Muscles') input[type=checkbox]")
        muscles.uncheck()
        wait_until(page, "location.search.includes('hide=')")
        after = canvas.screenshot()
        assert after != before, "hiding a group did not change the 3D view"
        hidden_url = page.url

        # Slices (NiiVue, loaded on first opening): CT drawn, presets change it.
        slices_canvas = page.locator(".slices-view canvas")
        page.click("button[role=tab]:text('Slices')")
        page.wait_for_selector("#tab-slices[data-ready]", timeout=60_000)
        page.wait_for_timeout(300)
        soft = slices_canvas.screenshot()
        assert bright_pixels(soft) > 2000, "the slice views show no CT"
        page.select_option("select[aria-label='Window preset']", "lung")
        page.wait_for_timeout(300)
        lung = slices_canvas.screenshot()
        page.screenshot(path=str(tmp_path / "slices.png"))
        assert lung != soft, "changing the window preset did not change the slices"
        page.click("button[role=tab]:text('3D')")

        box = canvas.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        picked = page.inner_text(".pick-info")
        assert re.search(r"\d+\.\d mL .* HU", picked), picked

        # Choosing a structure (the pick above, then the right lung, off the body's centre)
        # moves the slices' crosshair to its centroid.
        page.click(".leaf button.name:text-is('Lung right')")
        page.click("button[role=tab]:text('Slices')")
        page.wait_for_selector("#tab-slices[data-crosshair]")
        page.wait_for_timeout(300)
        assert slices_canvas.screenshot() != lung, "choosing a structure did not move the slices"
        x_mm = float(page.get_attribute("#tab-slices", "data-crosshair").split(",")[0])
        assert x_mm > 0, "the right lung's centroid is on the patient's right (+x in RAS)"
        # Clicking a labelled voxel in the axial slice (left tile) highlights it in the 3D tree.
        tile = slices_canvas.bounding_box()
        assert tile is not None
        page.mouse.click(tile["x"] + 0.12 * tile["width"], tile["y"] + 0.5 * tile["height"])
        wait_until(
            page,
            "!document.querySelector('#tab-slices .pick-info').textContent.startsWith('Click')",
        )
        named = page.inner_text("#tab-slices .pick-info")
        selected = page.inner_text(".leaf.selected button.name")
        # The status line ends with the structure under the crosshair.
        assert named.lower().endswith(selected.lower()), (selected, named)
        page.screenshot(path=str(tmp_path / "slices-picked.png"))
        page.click("button[role=tab]:text('3D')")
        assert page.locator(".leaf.selected").count() == 1
        page.keyboard.press("2")  # posterior view, from the keyboard
        wait_until(page, "new URLSearchParams(location.search).get('cam')?.split(',')[2] < 0")

        page.click("button[role=tab]:text('Statistics')")
        assert page.locator("table.stats tbody tr").count() >= 2
        page.click("button[role=tab]:text('Downloads')")
        with page.expect_download() as download:
            page.click("a:text('3D model (GLB)')")
        glb = Path(download.value.path()).read_bytes()
        assert glb[:4] == b"glTF"
        with page.expect_download() as download:
            page.click("a:text('plain GLB')")
        assert download.value.suggested_filename == "anatomy_plain.glb"
        plain = read_glb(Path(download.value.path()).read_bytes())
        assert "extensionsRequired" not in plain.document and plain.structures

        page.click("a.brand")  # leaving the viewer frees its WebGL context and canvas
        page.wait_for_selector(".study")
        assert page.locator("canvas").count() == 0

        # The link reopens the same view: the hidden group stays hidden.
        page.goto(hidden_url)
        page.wait_for_selector("body[data-viewer-ready]", timeout=60_000)
        assert not muscles.is_checked()
        assert errors == [], errors

        other = browser.new_page()
        enter(other, service.url, "ben@example.org", PASSWORD, new_account=True)
        assert other.locator(".study").count() == 0
        other.goto(f"{service.url}/studies/{study_id}")
        other.wait_for_selector("text=Study not found")
        assert re.search(r"phantom", other.inner_text("main")) is None


def test_uploads_refused_with_a_reason_and_a_series_chosen_from_a_folder(
    service: LiveService, tmp_path: Path
) -> None:
    phantom = make_phantom(shape=(40, 32, 20), spacing=(8.0, 8.0, 8.0))
    folder = tmp_path / "dicom"  # one folder holding two series, as a scanner exports them
    write_dicom_series(phantom.ct, folder / "a", series_description="Soft tissue")
    write_dicom_series(phantom.ct, folder / "b", series_description="Bone kernel")
    garbage = tmp_path / "broken.nii.gz"
    garbage.write_bytes(b"not a nifti at all" * 100)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with chromium() as browser, service.explained():
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        enter(page, service.url, "cleo@example.org", PASSWORD, new_account=True)

        page.set_input_files("#file-input", str(notes))
        page.wait_for_selector(".upload-status.error:has-text('notes.txt')")
        page.set_input_files("#file-input", str(garbage))
        page.wait_for_selector(".upload-status.error:has-text('Not accepted')")
        assert page.locator(".study").count() == 0

        page.select_option("#engine", "tissue")
        page.set_input_files("#folder-input", str(folder))
        choice = page.locator(".series-choice select")
        choice.wait_for(timeout=60_000)
        options = choice.locator("option").all_inner_texts()
        assert len(options) == 2 and any("Bone kernel" in o for o in options), options
        choice.select_option(label=next(o for o in options if "Bone kernel" in o))
        page.click("button:text('Process this series')")
        page.wait_for_selector(".job-status[data-state=done]", timeout=120_000)
