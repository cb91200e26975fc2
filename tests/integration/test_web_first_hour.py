"""The first hour in the web app (issue 19), in headless Chromium against a real ``iris serve``:
the tissue engine's first view (context faint or hidden, the skeleton named and measured), a
comparison of two tissue studies whose skeleton is selected, engines offered only when they
can run, forms that answer in plain words, and studies renamed and told apart by engine and
quality."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nibabel as nib
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
from tests.support.live_server import LiveService, wait_for
from tests.support.requirements import require

from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.volume import LabelMap

pytestmark = pytest.mark.slow
EMAIL = "eve@example.org"
PASSWORD = "correct horse battery"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@dataclass(frozen=True)
class Account:
    token: str
    tissue: str  # a study processed by the tissue engine
    tissue_again: str  # the same CT, engine "auto" (no models: tissue), for a comparison
    imported: str  # the phantom with its own label map


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    require(browser_available(), "needs Playwright for Python, node and /usr/bin/chromium")
    require(web_built(), "needs the built web app (scripts/setup.sh builds web/dist)")
    # No TotalSegmentator models, whatever this machine has installed.
    models = tmp_path_factory.mktemp("no-models")
    live = LiveService(tmp_path_factory.mktemp("web-first") / "data", workers=1,
                       TOTALSEG_HOME_DIR=str(models), TOTALSEG_WEIGHTS_PATH=str(models))
    live.start()
    yield live
    live.stop()


def _upload(http: httpx.Client, ct: bytes, engine: str, labels: bytes | None = None) -> str:
    files = [("files", ("scan.nii.gz", ct, "application/octet-stream"))]
    study = http.post("/api/studies", files=files)
    assert study.status_code == 201, study.text
    study_id: str = study.json()["id"]
    if labels is not None:
        attached = http.put(f"/api/studies/{study_id}/segmentation",
                            files=[("file", ("labels.nii.gz", labels, "application/gzip"))])
        assert attached.status_code == 200, attached.text
    job = http.post("/api/jobs", json={"study_id": study_id, "engine": engine, "quality": "fast"})
    assert job.status_code == 201, job.text
    return study_id


def _wait_done(http: httpx.Client, study_id: str) -> None:
    job = http.get(f"/api/studies/{study_id}").json()["latest_job"]
    # Generous: the test machine's cores are shared.
    done = wait_for(http, job["id"], {"done", "failed"}, timeout_s=600)
    assert done["state"] == "done", done["error"]


@pytest.fixture(scope="module")
def account(service: LiveService, tmp_path_factory: pytest.TempPathFactory) -> Account:
    folder = tmp_path_factory.mktemp("first")
    phantom = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    ct = write_nifti(phantom.ct, folder / "ct.nii.gz").read_bytes()
    labels = write_nifti(phantom.labels, folder / "labels.nii.gz").read_bytes()
    token = service.sign_up(EMAIL, PASSWORD)
    with service.client(token) as http:
        made = Account(token, _upload(http, ct, "tissue"), _upload(http, ct, "auto"),
                       _upload(http, ct, "import", labels))
        for study_id in (made.tissue, made.tissue_again, made.imported):
            _wait_done(http, study_id)
    return made


DESKTOP = {"width": 1440, "height": 900}


def _open_study(page: object, service: LiveService, study_id: str) -> None:
    """Open a study's viewer and wait for its first full frame."""
    page.goto(f"{service.url}/studies/{study_id}")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-viewer-ready]", timeout=60_000)  # type: ignore[attr-defined]


def drawn_pixels(png: bytes) -> int:
    """Pixels clearly lighter than the 3D view's dark background (an ivory bone counts)."""
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return int((image > 60).sum())


def _tree_names(page: object) -> list[str]:
    names: list[str] = page.eval_on_selector_all(  # type: ignore[attr-defined]
        ".leaf input[type=checkbox]", "boxes => boxes.map(b => b.dataset.structure)")
    return names


def test_the_tissue_engine_opens_on_what_the_user_came_for(
    service: LiveService, account: Account, tmp_path: Path
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        _open_study(page, service, account.tissue)
        names = _tree_names(page)
        assert "skeleton" in names and not any(n.startswith("skeleton_") for n in names), names
        assert page.locator(".leaf button.name:text-is('Skeleton 1')").count() == 0

        # Context: fat hidden, the body and the muscle wall faint; the findings opaque.
        fats = [n for n in ("torso_fat", "subcutaneous_fat") if n in names]
        assert fats, names
        for fat in fats:
            assert not page.is_checked(f"input[data-structure={fat}]"), fat
        for name in names:
            opacity = float(page.get_attribute(f"input[aria-label='Opacity of "
                                               f"{name.replace('_', ' ').capitalize()}']", "value")
                            or "nan")
            context = name in {"body", "skeletal_muscle", "torso_fat", "subcutaneous_fat"}
            assert (opacity <= 0.25) if context else (opacity == 1.0), (name, opacity)
        assert "hide=" not in page.url  # the default view needs nothing in the link
        page.wait_for_timeout(300)
        canvas = page.locator(".viewport canvas").screenshot()
        assert colourful_pixels(canvas) > 2000, "no coloured structure in the first view"
        page.screenshot(path=str(DOCS_IMG / "first-view-tissue-desktop.png"))

        # The skeleton, picked from the tree, shows its statistics.
        page.click(".leaf button.name:text-is('Skeleton')")
        info = page.inner_text(".pick-info")
        assert "Skeleton" in info and " mL " in info and "HU" in info, info

        # Showing the fat again is kept in the link; the link reopens it shown.
        page.check(f"input[data-structure={fats[0]}]")
        wait_until(page, "location.search.includes('hide=')")
        page.goto(page.url)
        page.wait_for_selector("body[data-viewer-ready]", timeout=60_000)
        assert page.is_checked(f"input[data-structure={fats[0]}]")
        assert errors == [], errors


def test_selecting_the_skeleton_in_a_comparison_keeps_both_views(
    service: LiveService, account: Account
) -> None:
    with service.client(account.token) as http:
        started = http.post("/api/comparisons", json={
            "base_study_id": account.tissue, "follow_study_id": account.tissue_again})
        assert started.status_code in (200, 201), started.text
        comparison = started.json()
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        page.goto(f"{service.url}/comparisons/{comparison['id']}")
        page.wait_for_selector("body[data-compare-ready]", timeout=120_000)
        page.click("tr[data-structure=skeleton] button")
        wait_until(page, "location.search.includes('sel=skeleton')")
        page.wait_for_timeout(400)
        for panel in page.locator(".compare-stage canvas").all():
            assert drawn_pixels(panel.screenshot()) > 2000, "a 3D panel went blank"
        assert errors == [], errors


def test_only_engines_that_can_run_are_offered(service: LiveService, account: Account) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        wait_until(page, "document.querySelector('[data-testid=engine-forecast]').textContent")
        offered = page.eval_on_selector_all("#engine option", "os => os.map(o => o.value)")
        assert offered == ["auto", "tissue"], offered
        forecast = page.inner_text("[data-testid=engine-forecast]")
        assert forecast.startswith("The built-in tissue engine will run"), forecast
        assert "lungs" in forecast and "not installed" in forecast
        assert page.locator("[data-testid=admin-models]").is_hidden()  # not an administrator

        # "auto" fell back to the tissue engine: said once, in words, no command line.
        _open_study(page, service, account.tissue_again)
        notice = page.inner_text("[data-testid=engine-notice]")
        assert notice.lower().count("tissue engine") == 1, notice
        assert "iris " not in notice and "`" not in notice and "/" not in notice, notice
        assert errors == [], errors


def test_messages_in_words_and_studies_renamed_and_told_apart(
    service: LiveService, account: Account, tmp_path: Path
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        # Messages for humans: a bad e-mail and a short password, in words, nothing sent.
        page.goto(f"{service.url}/signup")
        page.fill("#email", "bob")
        page.fill("#password", "x")
        page.click("button[type=submit]")
        assert page.inner_text(".form-error") == "Enter an e-mail address like name@example.org."
        page.fill("#email", "bob@example.org")
        page.click("button[type=submit]")
        assert page.inner_text(".form-error") == "Choose a password of 8 characters or more."
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        empty = tmp_path / "Chest CT.nii.gz"
        empty.write_bytes(b"")
        page.set_input_files("#file-input", str(empty))
        refusal = page.locator(".upload-status.error")
        refusal.wait_for(timeout=10_000)
        assert refusal.inner_text() == ('"Chest CT.nii.gz" is empty (0 bytes): '
                                        "choose the scan's file.")
        # Refused by the server: still named as the user named it, never the stored copy.
        empty.write_bytes(b"\x1f\x8b not really gzip, not really NIfTI")
        page.set_input_files("#file-input", str(empty))
        wait_until(page, "document.querySelector('.upload-status.error')?.textContent"
                         ".includes('was not accepted')")
        said = page.inner_text(".upload-status.error")
        assert said.startswith('"Chest CT.nii.gz" was not accepted: '), said
        assert "study.nii" not in said, said
        errors[:] = [e for e in errors if "status of 4" not in e]  # the refused upload, expected

        card = page.locator(f"li[data-study='{account.tissue}']")
        card.wait_for(timeout=30_000)
        assert card.locator(".study-engine").inner_text() == "Tissue engine · fast quality"
        imported = page.locator(f"li[data-study='{account.imported}'] .study-engine")
        assert imported.inner_text() == "Your segmentation · fast quality"

        # Rename on the card: a blank name is refused in words, a real one kept by the server.
        card.get_by_role("button", name="Rename").click()
        field = card.locator("input.rename-input")
        field.fill("   ")
        field.press("Enter")
        assert card.locator(".rename .form-error").inner_text() == "Type a name for the study."
        field.fill("Chest, tissue engine")
        field.press("Enter")
        card.locator(".name:text-is('Chest, tissue engine')").wait_for(timeout=10_000)
        with service.client(account.token) as http:
            stored = http.get(f"/api/studies/{account.tissue}").json()
        assert stored["name"] == "Chest, tissue engine"

        # The Compare dialog says which engine and quality made each study.
        card.get_by_role("button", name="Compare").click()
        options = page.eval_on_selector_all("#compare-other option", "os => os.map(o => o.text)")
        assert options and all(" quality" in o for o in options), options
        engines = page.inner_text("[data-testid=compare-before-engine]") + page.inner_text(
            "[data-testid=compare-after-engine]")
        assert "Tissue engine · fast quality" in engines, engines
        page.get_by_role("button", name="Cancel").click()
        assert errors == [], errors


def test_the_inferior_view_and_cut_structures_shown_closed(
    service: LiveService, account: Account
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        _open_study(page, service, account.imported)
        page.wait_for_timeout(300)
        page.screenshot(path=str(DOCS_IMG / "first-view-imported-desktop.png"))

        # Inferior: the camera below the model (glTF y is superior), from the toolbar and key 6.
        camera_y = ("(() => { const c = (new URLSearchParams(location.search).get('cam') || '')"
                    ".split(',').map(Number); return c.length === 6 && c[1] %s c[4]; })()")
        page.get_by_role("button", name="Inferior", exact=True).click()
        wait_until(page, camera_y % "<")
        page.keyboard.press("5")  # Superior
        wait_until(page, camera_y % ">")
        page.keyboard.press("6")
        wait_until(page, camera_y % "<")
        page.keyboard.press("5")
        wait_until(page, camera_y % ">")

        # Cut axially and look down at the cut: the opaque organs show closed faces.
        closed = page.locator("input[aria-label='Close cut surfaces']")
        assert closed.is_disabled()  # nothing is cut yet
        page.select_option("select[aria-label='Clipping plane']", "axial")
        wait_until(page, "Number(document.querySelector('.viewport').dataset.capped) > 0")
        page.wait_for_timeout(300)
        canvas = page.locator(".viewport canvas")
        capped = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB"), np.int16)

        # The open shells, for comparison: the user can switch the faces off.
        closed.uncheck()
        wait_until(page, "document.querySelector('.viewport').dataset.capped === '0'")
        page.wait_for_timeout(300)
        shells = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB"), np.int16)
        changed = int((np.abs(capped - shells).max(axis=2) > 30).sum())
        print(f"closing the cuts changed {changed} pixels")
        assert changed > 1500, f"closing the cuts changed only {changed} pixels"
        # A closed face is one flat plane facing the camera, one shade per structure; the open
        # shells show their curved insides through the cut, in many shades.
        region = np.abs(capped - shells).max(axis=2) > 30
        flat, curved = (len(np.unique(image[region] // 8, axis=0)) for image in (capped, shells))
        print(f"shades where the cuts differ: closed {flat}, open {curved}")
        assert flat * 3 < curved * 2
        assert errors == [], errors


def _ct_of(service: LiveService, account: Account, study_id: str, folder: Path) -> nib.Nifti1Image:
    with service.client(account.token) as http:
        job = http.get(f"/api/studies/{study_id}").json()["latest_job"]
        url = next(a["url"] for a in job["artifacts"] if a["name"] == "ct_nifti")
        (folder / "ct.nii.gz").write_bytes(http.get(url).content)
    return nib.load(folder / "ct.nii.gz")  # type: ignore[return-value]


def test_the_slice_views_read_hu_position_window_and_distance(
    service: LiveService, account: Account, tmp_path: Path
) -> None:
    ct = _ct_of(service, account, account.imported, tmp_path)
    hu, affine = np.asarray(ct.dataobj), ct.affine
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        _open_study(page, service, account.imported)
        page.click("button[role=tab]:text('Slices')")
        page.wait_for_selector("#tab-slices[data-ready]", timeout=60_000)
        tile = page.locator(".slices-view canvas").bounding_box()
        assert tile is not None
        x, y = tile["x"] + 0.15 * tile["width"], tile["y"] + 0.5 * tile["height"]

        # The voxel under a click: where it is in the patient, its slice numbers and its HU,
        # checked against the CT file the server made.
        page.mouse.click(x, y)
        status = "document.querySelector('#tab-slices .pick-info').textContent"
        wait_until(page, f"{status}.includes('HU')")
        line = page.inner_text("#tab-slices .pick-info")
        found = re.match(r"([RL]) ([\d.]+) · ([AP]) ([\d.]+) · ([SI]) ([\d.]+) mm · "
                         r"axial (\d+)/(\d+) · coronal (\d+)/(\d+) · sagittal (\d+)/(\d+) · "
                         r"(-?\d+) HU", line)
        assert found, line
        g = found.groups()
        assert (int(g[11]), int(g[9]), int(g[7])) == hu.shape, line
        ijk = (int(g[10]) - 1, int(g[8]) - 1, int(g[6]) - 1)
        assert abs(int(g[12]) - int(hu[ijk])) <= 1, (line, int(hu[ijk]))
        shown_mm = [float(v) * (1 if side in "RAS" else -1)
                    for side, v in zip(g[0:6:2], g[1:6:2], strict=True)]
        voxel_mm = (affine @ [*ijk, 1])[:3]
        spacing = np.abs(np.diag(affine))[:3]
        assert np.all(np.abs(np.array(shown_mm) - voxel_mm) <= spacing / 2 + 0.1), (line, voxel_mm)

        # Free window and level: dragging with the window tool changes W and L.
        assert page.inner_text("[data-testid=slice-window]") == "W 400 L 40"
        page.get_by_role("button", name="Window/level").click()
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y - 40, steps=6)
        page.mouse.up()
        window = "document.querySelector('[data-testid=slice-window]').textContent"
        wait_until(page, f"{window} !== 'W 400 L 40'")
        assert re.fullmatch(r"W \d+ L -?\d+", page.inner_text("[data-testid=slice-window]"))

        # A distance: dragged with the measure tool, in millimetres, within the body's size.
        page.get_by_role("button", name="Measure").click()
        page.mouse.move(x - 40, y)
        page.mouse.down()
        page.mouse.move(x + 40, y, steps=6)
        page.mouse.up()
        wait_until(page, "document.querySelector('[data-testid=slice-distance]').textContent")
        distance = float(page.inner_text("[data-testid=slice-distance]").split()[1])
        assert 0 < distance < max(hu.shape) * spacing.max(), distance
        page.get_by_role("button", name="Clear").click()
        assert page.inner_text("[data-testid=slice-distance]") == ""
        assert errors == [], errors


def test_a_shared_link_survives_sign_in_and_a_running_job_opens_when_done(
    service: LiveService, account: Account, tmp_path: Path
) -> None:
    phantom = make_phantom(shape=(96, 84, 72), spacing=(4.0, 4.0, 4.0))
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz").read_bytes()
    with service.client(account.token) as http:
        ahead = _upload(http, ct, "tissue")  # keeps the one worker busy
        waiting = _upload(http, ct, "tissue")
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        # Signed out, a study's link goes to the sign-in form, then on to that study.
        page.goto(f"{service.url}/studies/{waiting}?sel=liver")
        page.wait_for_selector("#email")
        assert "next=" in page.url
        assert all("401" in e for e in errors), errors  # who am I? signed out: 401, as it should
        errors.clear()
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        # Not processed yet: the job's progress, live, not a dead end.
        pending = page.locator("[data-testid=study-pending]")
        pending.wait_for(timeout=30_000)
        assert page.url.endswith(f"/studies/{waiting}?sel=liver")
        state = page.get_attribute("[data-testid=study-pending] .job-status", "data-state")
        assert state in ("queued", "running"), state
        assert page.inner_text("[data-testid=study-pending] .job-status").startswith(
            ("Queued", "Reading", "Segmenting", "Building", "Exporting", "Measuring"))
        # ... and the viewer as soon as the job is done, without a reload by the user.
        page.wait_for_selector("body[data-viewer-ready]", timeout=600_000)
        assert errors == [], errors
    with service.client(account.token) as http:
        for study_id in (ahead, waiting):
            assert http.delete(f"/api/studies/{study_id}").status_code in (200, 204)


PHONE = {"width": 390, "height": 844}
# Content wider than the window: what makes a page scroll sideways on a phone.
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


def test_the_phone_layout_lists_views_and_measures_without_scrolling_sideways(
    service: LiveService, account: Account
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=PHONE, device_scale_factor=1)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        card = page.locator(f"li[data-study='{account.imported}']")
        card.wait_for(timeout=30_000)
        assert page.evaluate(SIDEWAYS) <= 0, "the study list scrolls sideways"
        name = card.locator(".name").first
        box = name.bounding_box()
        assert box is not None and box["width"] >= 150, f"the study's name is squeezed: {box}"
        assert box["height"] < 3 * 22, f"the study's name wraps a word per line: {box}"
        page.screenshot(path=str(DOCS_IMG / "phone-studies.png"))

        _open_study(page, service, account.imported)
        assert page.evaluate(SIDEWAYS) <= 0, "the viewer scrolls sideways"
        canvas = page.locator(".viewport canvas").bounding_box()
        assert canvas is not None and canvas["width"] >= 350 and canvas["height"] >= 300, canvas
        # The structure tree is a drawer: closed, the 3D view has the screen; open, the tree.
        tree = page.locator(".sidebar")
        assert not tree.is_visible()
        page.get_by_role("button", name="Structures").click()
        tree.wait_for(state="visible")
        page.click(".leaf button.name >> nth=0")
        page.get_by_role("button", name="Close structures").click()
        tree.wait_for(state="hidden")
        page.screenshot(path=str(DOCS_IMG / "phone-viewer.png"))

        page.click("button[role=tab]:text('Statistics')")
        page.wait_for_selector("table.stats tbody tr")
        assert page.evaluate(SIDEWAYS) <= 0, "the statistics scroll sideways"
        page.screenshot(path=str(DOCS_IMG / "phone-statistics.png"))
        # The first view of each kind of study, as a phone shows it.
        for kind, study in (("tissue", account.tissue), ("imported", account.imported)):
            _open_study(page, service, study)
            assert page.evaluate(SIDEWAYS) <= 0, f"the {kind} study's viewer scrolls sideways"
            page.wait_for_timeout(300)
            page.screenshot(path=str(DOCS_IMG / f"first-view-{kind}-phone.png"))
        assert errors == [], errors


def test_a_user_brings_their_own_segmentation_from_the_upload_form(
    service: LiveService, account: Account, tmp_path: Path
) -> None:
    phantom = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    ct = write_nifti(phantom.ct, tmp_path / "Abdomen CT.nii.gz")
    labels = write_nifti(phantom.labels, tmp_path / "my labels.nii.gz")
    broken = tmp_path / "broken labels.nii.gz"
    broken.write_bytes(b"not a label map at all")
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        wait_until(page, "document.querySelector('[data-testid=engine-forecast]').textContent")

        # A label map that is not one: refused in words naming it; the CT is kept.
        page.set_input_files("#segmentation-input", str(broken))
        assert page.is_disabled("#engine")
        forecast = page.inner_text("[data-testid=engine-forecast]")
        assert 'Your segmentation "broken labels.nii.gz" will be used' in forecast, forecast
        page.set_input_files("#file-input", str(ct))
        refusal = page.locator(".upload-status.error")
        refusal.wait_for(timeout=60_000)
        said = refusal.inner_text()
        assert said.startswith('Your segmentation "broken labels.nii.gz" was not accepted:'), said
        assert "choose another segmentation file" in said, said

        # Another file processes the kept CT with it: no second upload.
        page.set_input_files("#segmentation-input", str(labels))
        wait_until(page, "document.querySelector('.upload-status').textContent"
                         ".includes('with your segmentation \"my labels.nii.gz\"')", timeout_s=60)
        assert not page.is_disabled("#engine")
        # The refused PUT shows in the console as a failed load: that one is expected.
        refused = "Failed to load resource: the server responded with a status of 4"
        assert [e for e in errors if not e.startswith(refused)] == [], errors
    with service.client(account.token) as http:
        mine = [s for s in http.get("/api/studies").json()["items"]
                if s["latest_job"] and s["latest_job"]["engine"] == "import"
                and s["id"] != account.imported]
        assert len(mine) == 1, mine  # one CT uploaded, processed with the user's labels
        done = wait_for(http, mine[0]["latest_job"]["id"], {"done", "failed"}, timeout_s=600)
        assert done["state"] == "done", done["error"]
        assert done["engine_used"] == "import"
        assert http.delete(f"/api/studies/{mine[0]['id']}").status_code in (200, 204)


def test_a_comparison_bound_to_fail_is_refused_in_the_dialog(
    service: LiveService, account: Account, tmp_path: Path
) -> None:
    phantom = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    trachea = next(i for i, s in phantom.labels.table.items() if s.name == "trachea")
    labels = phantom.labels.array.copy()
    labels[labels == trachea] = 0  # the one name the tissue engine shares with the phantom
    own = write_nifti(LabelMap(labels, phantom.labels.affine, phantom.labels.table),
                      tmp_path / "labels.nii.gz")
    ct = write_nifti(phantom.ct, tmp_path / "ct.nii.gz").read_bytes()
    with service.client(account.token) as http:
        organs = _upload(http, ct, "import", own.read_bytes())
        _wait_done(http, organs)
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        card = page.locator(f"li[data-study='{account.tissue}']")
        card.wait_for(timeout=30_000)
        card.get_by_role("button", name="Compare").click()
        page.select_option("#compare-other", organs)
        page.locator("dialog").get_by_role("button", name="Compare", exact=True).click()
        wait_until(page, "document.querySelector('.compare-form .error').textContent")
        said = page.inner_text(".compare-form .error")
        assert "no structure in common" in said, said
        assert page.locator("dialog[open]").count() == 1  # still there: nothing was queued
        page.get_by_role("button", name="Cancel").click()
        # The refused POST is in the console as a failed load: that one is expected.
        assert [e for e in errors if "status of 422" not in e] == [], errors
    with service.client(account.token) as http:
        assert http.get("/api/comparisons", params={"study_id": organs}).json()["items"] == []
        assert http.delete(f"/api/studies/{organs}").status_code in (200, 204)


def test_slices_beside_the_3d_view_on_a_wide_screen(
    service: LiveService, account: Account
) -> None:
    with chromium() as browser, service.explained():
        page, errors = watched_page(browser, viewport=DESKTOP)
        enter(page, service.url, EMAIL, PASSWORD, new_account=False)
        _open_study(page, service, account.imported)
        page.get_by_role("button", name="3D beside slices").click()
        page.wait_for_selector("#tab-slices[data-ready]", timeout=60_000)
        three_d = page.locator(".viewport canvas").bounding_box()
        slices = page.locator(".slices-view canvas").bounding_box()
        assert three_d is not None and slices is not None
        assert three_d["width"] > 500 and slices["width"] > 350, (three_d, slices)
        assert slices["x"] >= three_d["x"] + three_d["width"] - 1, "not side by side"
        # A structure chosen in the tree moves the slices beside it.
        page.click(".leaf button.name:text-is('Liver')")
        page.wait_for_selector("#tab-slices[data-crosshair]")
        page.screenshot(path=str(DOCS_IMG / "side-by-side.png"))
        # Statistics take the whole width again; back to 3D, both are there.
        page.click("button[role=tab]:text('Statistics')")
        assert not page.locator(".slices-view canvas").is_visible()
        page.click("button[role=tab]:text('3D')")
        assert page.locator(".slices-view canvas").is_visible()
        assert errors == [], errors
