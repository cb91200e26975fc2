"""The web viewer's speed in headless Chromium against a real ``iris serve`` on 127.0.0.1.

Prints: time from navigation to a completed study until the first coloured pixels (the first
structures drawn as they are decoded; goal <= 2 s for any study) and until the first frame with
every structure drawn (medians of several cold page loads), with the study list's
time to interactive as the baseline in the same process; the GLB's size and structure count; the
JS bundle's size (raw and gzip). Uses the TotalSegmentator example (CT + its segmentation,
engine ``import``) when /work/shared/data/totalseg_example is present, else a phantom.
``--full`` uses a full-size study instead: the phantom on a 320x320x240 grid (``--grid``; 400 mm
across, 384 mm long)
with its structures cut into pieces named after TotalSegmentator's unused classes until at least
110 structures are present, their boundaries made ragged by a voxel as a real segmentation's are
(a GLB of several MB, as a whole-body study makes).

    .venv/bin/python benchmarks/viewer_bench.py [--runs 5] [--quality normal] [--full]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.browser import WEB_DIST, browser_available, chromium, web_built
from tests.support.live_server import LiveService, wait_for

from iris3d.anatomy import total_table
from iris3d.phantom import make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.volume import LabelMap

EXAMPLE = Path("/work/shared/data/totalseg_example")


def _full_size_study(
    scratch: Path, shape: tuple[int, int, int], structures: int = 110
) -> tuple[Path, Path]:
    """A CT and a label map of ``structures`` structures on a full-size grid (see the module)."""
    fov_mm = (400.0, 400.0, 384.0)
    spacing = (fov_mm[0] / shape[0], fov_mm[1] / shape[1], fov_mm[2] / shape[2])
    phantom = make_phantom(shape=shape, spacing=spacing)
    labels = phantom.labels.array.copy()
    table = total_table()
    unused = [i for i in sorted(table) if i not in set(np.unique(labels).tolist())]
    present = [int(i) for i in np.unique(labels) if i]
    while len(present) < structures and unused:
        biggest = max(present, key=lambda i: int((labels == i).sum()))
        where = np.nonzero(labels == biggest)
        axis = int(np.argmax([w.max() - w.min() for w in where]))
        upper = where[axis] > np.median(where[axis])
        new = unused.pop(0)
        labels[tuple(w[upper] for w in where)] = new
        present.append(new)
    # Real segmentations have ragged boundaries, not the phantom's smooth ones: each boundary
    # moves by a voxel here and there, so the surfaces keep the triangles a real study's keep.
    rng = np.random.default_rng(0)
    for axis in range(3):
        moved = rng.random(labels.shape) < 0.25
        labels[moved] = np.roll(labels, 1, axis=axis)[moved]
    pieces = LabelMap(labels, phantom.labels.affine, table)
    ct = write_nifti(phantom.ct, scratch / "ct.nii.gz")
    return ct, write_nifti(pieces, scratch / "seg.nii.gz")


def _prepare_study(
    live: LiveService, token: str, scratch: Path, quality: str = "normal",
    full: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    with live.client(token) as http:
        if full:
            (ct, seg), engine = _full_size_study(scratch, full), "import"
        elif (EXAMPLE / "example_seg.nii.gz").exists():
            ct, seg = EXAMPLE / "example_ct_sm.nii.gz", EXAMPLE / "example_seg.nii.gz"
            engine = "import"
        else:
            phantom = make_phantom(shape=(96, 80, 64), spacing=(4.0, 4.0, 4.0))
            ct, seg, engine = write_nifti(phantom.ct, scratch / "ct.nii.gz"), None, "tissue"
        files = [("files", (ct.name, ct.read_bytes(), "application/octet-stream"))]
        study = http.post("/api/studies", files=files).json()
        if seg is not None:
            seg_file = [("file", (seg.name, seg.read_bytes(), "application/octet-stream"))]
            response = http.put(f"/api/studies/{study['id']}/segmentation", files=seg_file)
            assert response.status_code == 200, response.text
        body = {"study_id": study["id"], "quality": quality, "engine": engine}
        job = http.post("/api/jobs", json=body).json()
        job = wait_for(http, job["id"], {"done", "failed"}, timeout_s=600)
        assert job["state"] == "done", job
        return {"study": study["id"], "job": job, "source": ct.name}


def _page_ms(browser: Any, url: str, token: str, ready: str) -> tuple[float, float]:
    """(first structure on screen, every structure on screen) in ms from navigation."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    _sign_in(context, url, token)
    page = context.new_page()
    page.goto(url)
    page.on("console", lambda m: print("console:", m.text) if m.type == "error" else None)
    page.wait_for_selector(ready, state="attached", timeout=60_000)
    done = float(page.evaluate("Number(document.body.dataset.viewerReady || performance.now())"))
    first = float(page.evaluate(f"Number(document.body.dataset.firstPixels || {done})"))
    context.close()
    return first, done


def _sign_in(context: Any, url: str, token: str) -> None:
    origin = "/".join(url.split("/")[:3])
    context.add_cookies([{"name": "iris_session", "value": token, "url": origin + "/"}])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quality", default="normal", choices=["fast", "normal", "high"])
    parser.add_argument("--full", action="store_true", help="a full-size study (>= 110 structures)")
    parser.add_argument("--grid", default="320,320,240", help="with --full: its grid, x,y,z voxels")
    args = parser.parse_args()
    if not (browser_available() and web_built()):
        sys.exit("needs Playwright, /usr/bin/chromium and the built web app (scripts/setup.sh)")
    scratch = Path(tempfile.mkdtemp(prefix="iris-viewer-bench-"))
    live = LiveService(scratch / "data")
    live.start()
    try:
        token = live.sign_up("bench@example.org")
        started = time.perf_counter()
        grid = tuple(int(n) for n in args.grid.split(","))
        full = (grid[0], grid[1], grid[2]) if args.full else None
        prepared = _prepare_study(live, token, scratch, args.quality, full)
        print(f"study from {prepared['source']} processed in {time.perf_counter() - started:.1f} s")
        glb = next(a for a in prepared["job"]["artifacts"] if a["name"] == "glb")
        with chromium() as browser:
            viewer_url = f"{live.url}/studies/{prepared['study']}"
            list_ms = [_page_ms(browser, live.url + "/", token, ".study")[1]
                       for _ in range(args.runs)]
            ready = "body[data-viewer-ready]"
            loads = [_page_ms(browser, viewer_url, token, ready) for _ in range(args.runs)]
            first_ms, view_ms = [first for first, _ in loads], [done for _, done in loads]
            structures = _structure_count(browser, viewer_url, token)
    finally:
        live.stop()
    viewer, baseline = statistics.median(view_ms), statistics.median(list_ms)
    first = statistics.median(first_ms)
    print(f"GLB: {glb['size'] / 1e6:.2f} MB, {structures} structures")
    print(f"navigation -> first coloured pixels: {first:.0f} ms median "
          f"(runs: {', '.join(f'{v:.0f}' for v in first_ms)}; goal <= 2000 ms)")
    print(f"navigation -> first frame with all structures: {viewer:.0f} ms median "
          f"(runs: {', '.join(f'{v:.0f}' for v in view_ms)})")
    print(f"baseline, study list ready: {baseline:.0f} ms; "
          f"viewer/baseline = {viewer / baseline:.1f}x")
    for js in sorted((WEB_DIST / "assets").glob("*.js")):
        raw = js.read_bytes()
        packed = len(gzip.compress(raw))
        print(f"bundle {js.name}: {len(raw) / 1e3:.0f} kB, {packed / 1e3:.0f} kB gzip")


def _structure_count(browser: Any, url: str, token: str) -> int:
    context = browser.new_context()
    _sign_in(context, url, token)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-viewer-ready]", state="attached", timeout=60_000)
    count = page.locator(".leaf").count()
    context.close()
    return int(count)


if __name__ == "__main__":
    main()
