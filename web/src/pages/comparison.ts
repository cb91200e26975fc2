// A comparison of two studies: live progress, the alignment's verdict, the change of every
// structure (table, chart, CSV) and the two models side by side (linked cameras) or overlaid
// (the follow-up coloured by how far its surface moved).
import { api, artifact, describe, unwrap, type Comparison, type Job } from "../api/client";
import { formatBytes, formatDate, h, toast } from "../ui/dom";
import { jobSummary } from "../ui/jobs";
import { currentUser, topBar } from "../ui/shell";
import type { Leave } from "../router";
import { changesView, colourBar } from "../viewer/changes";
import { paintAnatomy, paintChange, signedDistances } from "../viewer/changescene";
import { colourBarTicks, SHRINK, symmetricLimit } from "../viewer/colormap";
import {
  alignmentVerdict, decodeCompareView, DEFAULT_SORT, encodeCompareView, formatPercent, formatSigned,
  parseReport, type ChangeSort, type CompareMode, type ComparisonReport, type StructureChange,
} from "../viewer/comparison";
import { linkViews } from "../viewer/link";
import { orientationCube } from "../viewer/orientation";
import { AnatomyScene, loadModel, type LoadedModel, type StandardView } from "../viewer/scene";
import { DEFAULT_OPACITY, structureLabel, type StructureStyle } from "../viewer/tree";

const DOWNLOADS: [string, string][] = [
  ["comparison_csv", "Table (CSV)"], ["comparison_json", "Everything (JSON)"],
  ["comparison_glb", "Follow-up in the baseline's frame (GLB)"],
];
const RANGES = [1, 2, 5, 10, 20, 50];
const GHOST = "#c9d1dc";
const hex = (c: readonly number[]): string => `#${c.map((v) => Math.round(v * 255).toString(16).padStart(2, "0")).join("")}`;

function notFound(root: HTMLElement, bar: HTMLElement, message: string): Leave {
  root.append(bar, h("main", { class: "message" }, h("h1", {}, "Comparison not found"),
    h("p", {}, message), h("a", { href: "/", "data-link": true }, "Back to studies")));
  return () => undefined;
}

function title(c: Comparison): HTMLElement {
  const side = (s: Comparison["base"], when: string): HTMLElement => h("span", { class: "side" },
    h("a", { href: `/studies/${s.study_id}`, "data-link": true }, s.study_name || "Untitled study"),
    h("span", { class: "muted" }, ` (${when})`));
  return h("header", { class: "compare-head" },
    h("h1", { "data-testid": "compare-title" }, side(c.base, "before"), h("span", { class: "arrow" }, " → "), side(c.follow, "after")),
    h("p", { class: "muted small" }, `${c.affine ? "Affine" : "Rigid"} alignment · created ${formatDate(c.created_at)}`));
}

function downloads(job: Job): HTMLElement {
  return h("div", { class: "row downloads-row" }, ...DOWNLOADS.map(([name, label]) => {
    const a = artifact(job, name);
    return a ? h("a", { href: a.url, download: a.filename, class: "button small-button", "data-artifact": name,
      title: formatBytes(a.size) }, label) : null;
  }));
}

export function comparisonPage(go: (url: string) => void) {
  return async (root: HTMLElement, params: Record<string, string>): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go("/signin"); return () => undefined; }
    const id = params.id!;
    let comparison: Comparison;
    try {
      comparison = unwrap(await api.GET("/api/comparisons/{comparison_id}", { params: { path: { comparison_id: id } } }));
    } catch (e) {
      return notFound(root, topBar(user, go), e instanceof Error ? e.message : String(e));
    }

    const cleanups: (() => void)[] = [];
    let gone = false;
    let events: EventSource | null = null;
    let showing = false;
    const status = h("section", { class: "compare-status", "aria-live": "polite" });
    const results = h("div", { class: "compare-results" });
    root.append(
      topBar(user, go, h("span", { class: "crumb" }, `${comparison.base.study_name} → ${comparison.follow.study_name}`)),
      h("main", { class: "compare" }, title(comparison), status, results));

    const act = (path: "/api/jobs/{job_id}/retry" | "/api/jobs/{job_id}/cancel"): void => {
      void api.POST(path, { params: { path: { job_id: comparison.job.id } } }).then((r) => {
        if (!r.response.ok || !r.data) throw new Error(describe(r.response.status, r.error));
        show(r.data);
        if (path.endsWith("retry")) listen();
      }).catch((e: unknown) => toast(e instanceof Error ? e.message : String(e), "error"));
    };
    const show = (job: Job): void => {
      comparison = { ...comparison, job };
      const state = job.state;
      status.dataset.state = state;
      if (state === "done") {
        status.replaceChildren();
        events?.close();
        if (!showing) {
          showing = true;
          void showResults(comparison, results, () => gone, cleanups);
        }
        return;
      }
      const button = (label: string, path: "/api/jobs/{job_id}/retry" | "/api/jobs/{job_id}/cancel", primary = false): HTMLElement => {
        const b = h("button", { type: "button", class: primary ? "primary" : "" }, label);
        b.addEventListener("click", () => { b.setAttribute("disabled", ""); act(path); });
        return b;
      };
      if (state === "queued" || state === "running") {
        status.replaceChildren(h("h2", {}, "Comparing the two studies…"),
          h("p", { class: "job-status", "data-state": state }, jobSummary(job)),
          h("progress", { max: 100, value: job.percent, "aria-label": "Comparison progress" }),
          h("p", { class: "muted small" }, job.message),
          job.cancel_requested ? h("p", { class: "muted" }, "Stopping…") : button("Cancel", "/api/jobs/{job_id}/cancel"));
      } else {
        events?.close();
        status.replaceChildren(h("h2", {}, state === "failed" ? "The comparison failed" : "The comparison was cancelled"),
          h("p", { class: "error job-status", "data-state": state, role: "alert" }, job.error ?? job.message),
          button("Retry", "/api/jobs/{job_id}/retry", true));
      }
    };
    const listen = (): void => {
      events?.close();
      events = new EventSource(`/api/jobs/${encodeURIComponent(comparison.job.id)}/events`);
      events.addEventListener("job", (e) => show(JSON.parse((e as MessageEvent<string>).data) as Job));
      events.addEventListener("deleted", () => {
        events?.close();
        status.replaceChildren(h("p", { class: "error" }, "This comparison was deleted."),
          h("a", { href: "/", "data-link": true }, "Back to studies"));
      });
    };
    show(comparison.job);
    if (comparison.job.state === "queued" || comparison.job.state === "running") listen();
    return () => {
      gone = true;
      events?.close();
      for (const c of cleanups.splice(0)) c();
    };
  };
}

/** The finished comparison: verdict, table and chart, 3D. */
async function showResults(c: Comparison, box: HTMLElement, gone: () => boolean, cleanups: (() => void)[]): Promise<void> {
  const jsonUrl = artifact(c.job, "comparison_json")?.url;
  const glbUrl = artifact(c.job, "comparison_glb")?.url;
  if (!jsonUrl || !glbUrl) {
    box.append(h("p", { class: "error" }, "This comparison has no results to show."));
    return;
  }
  let report: ComparisonReport;
  try {
    const r = await fetch(jsonUrl);
    if (!r.ok) throw new Error(`the results could not be read (${r.status})`);
    report = parseReport(await r.json());
  } catch (e) {
    box.append(h("p", { class: "error" }, e instanceof Error ? e.message : String(e)));
    return;
  }
  if (gone()) return;
  const rows = report.structures;
  const byName = new Map(rows.map((r) => [r.name, r]));
  const statusOf = (n: string): StructureChange["status"] => byName.get(n)?.status ?? "both";
  const initial = decodeCompareView(location.search);
  let sort: ChangeSort = initial.sort;
  let search = initial.search;
  let selected: string | null = initial.selected && byName.has(initial.selected) ? initial.selected : null;
  let mode: CompareMode = initial.mode;
  let range: number | null = initial.range;
  let limit = 1;

  // --- Verdict, table and chart
  const verdict = alignmentVerdict(report.alignment);
  const banner = h("div", { class: `verdict ${verdict.level}`, "data-verdict": verdict.level,
    role: verdict.level === "good" ? "status" : "alert" },
    h("strong", {}, verdict.level === "good" ? "✓ " : "⚠ ", verdict.title), h("span", {}, verdict.detail));
  const searchBox = h("input", { type: "search", placeholder: "Search structures", "aria-label": "Search structures", value: search });
  const resetSort = h("button", { type: "button", class: "small-button", title: "Largest change first" }, "Largest change first");
  // Until the models are here, choosing a structure only marks it in the table.
  let select = (name: string | null): void => { selected = name; redraw(); scheduleUrl(); };
  const view = changesView(rows, (s) => { sort = s; redraw(); scheduleUrl(); }, (n) => select(n));
  const redraw = (): void => {
    view.update(sort, search, selected);
    resetSort.hidden = sort.key === DEFAULT_SORT.key && sort.descending === DEFAULT_SORT.descending;
  };
  searchBox.addEventListener("input", () => { search = searchBox.value; redraw(); scheduleUrl(); });
  resetSort.addEventListener("click", () => { sort = DEFAULT_SORT; redraw(); scheduleUrl(); });

  // --- 3D
  const labelA = h("div", { class: "viewport-label" }, `Before · ${c.base.study_name}`);
  const labelB = h("div", { class: "viewport-label" }, `After · ${c.follow.study_name}`);
  const noteA = h("div", { class: "viewport-note", hidden: true });
  const noteB = h("div", { class: "viewport-note", hidden: true });
  const vpA = h("div", { class: "viewport", "data-side": "before" }, labelA, noteA, h("div", { class: "loading" }, "Loading…"));
  const vpB = h("div", { class: "viewport", "data-side": "after" }, labelB, noteB, h("div", { class: "loading" }, "Loading…"));
  const sceneA = new AnatomyScene(vpA);
  const sceneB = new AnatomyScene(vpB);
  sceneA.renderer.domElement.setAttribute("aria-label", "Before: 3D anatomy");
  sceneB.renderer.domElement.setAttribute("aria-label", "After: 3D anatomy");
  cleanups.push(() => { sceneA.dispose(); sceneB.dispose(); delete document.body.dataset.compareReady; });
  const active = (): AnatomyScene => (mode === "overlay" ? sceneB : sceneA);
  const cube = orientationCube((v) => active().view(v));
  vpB.append(cube.element);
  sceneB.onRender = (camera) => cube.update(camera);

  const bar = colourBar();
  const rangeSelect = h("select", { "aria-label": "Colour scale range" });
  const colourByChange = h("input", { type: "checkbox", id: "colour-change" });
  const modeButtons = (["side", "overlay"] as CompareMode[]).map((m) => {
    const b = h("button", { type: "button", "data-mode": m, "aria-pressed": "false" }, m === "side" ? "Side by side" : "Overlay");
    b.addEventListener("click", () => void setMode(m));
    return b;
  });
  const viewButton = (v: StandardView, label: string, key: string): HTMLElement => {
    const b = h("button", { type: "button", title: `${label} view (${key})` }, label);
    b.addEventListener("click", () => active().view(v));
    return b;
  };
  const showAll = h("button", { type: "button", title: "Show every structure (Esc)" }, "Show all");
  showAll.addEventListener("click", () => select(null));
  const info = h("div", { class: "pick-info", role: "status", "aria-live": "polite" });
  const viewports = h("div", { class: "viewports" }, vpA, vpB);
  const stage = h("section", { class: "stage compare-stage" },
    h("div", { class: "toolbar", role: "toolbar", "aria-label": "View" },
      h("span", { class: "segmented" }, ...modeButtons), h("span", { class: "sep" }),
      viewButton("anterior", "Anterior", "1"), viewButton("posterior", "Posterior", "2"),
      viewButton("right", "Right", "3"), viewButton("left", "Left", "4"), viewButton("superior", "Superior", "5"),
      h("span", { class: "sep" }), showAll, h("span", { class: "sep" }),
      h("label", { class: "check small" }, colourByChange, " Colour by change"), rangeSelect),
    viewports, bar.element, info);
  box.append(banner, h("div", { class: "compare-body" },
    h("aside", { class: "changes-panel" },
      h("div", { class: "row" }, searchBox, resetSort), downloads(c.job), view.element),
    stage));
  redraw();

  let urlTimer = 0;
  const writeUrl = (): void => {
    const q = encodeCompareView({ mode, selected, sort, search, range, camera: active().cameraState() }).toString();
    history.replaceState(null, "", `${location.pathname}${q ? `?${q}` : ""}`);
  };
  const scheduleUrl = (): void => { clearTimeout(urlTimer); urlTimer = window.setTimeout(writeUrl, 300); };
  cleanups.push(() => clearTimeout(urlTimer));

  let modelA: LoadedModel;
  let modelB: LoadedModel;
  let ghost: LoadedModel | null = null;
  try {
    [modelA, modelB] = await Promise.all([loadModel(c.base.glb_url), loadModel(glbUrl)]);
  } catch (e) {
    for (const l of viewports.querySelectorAll(".loading")) l.textContent = `The models could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
    return;
  }
  if (!sceneA.setMain(modelA) || !sceneB.setMain(modelB) || gone()) return;
  for (const l of viewports.querySelectorAll(".loading")) l.remove();

  const distances = signedDistances(modelB);
  const autoLimit = symmetricLimit([...distances.values()].flat());
  rangeSelect.append(h("option", { value: "" }, `Auto (±${autoLimit} mm)`),
    ...RANGES.map((r) => h("option", { value: r }, `±${r} mm`)));
  rangeSelect.value = range !== null && RANGES.includes(range) ? String(range) : "";

  const shown = (name: string): boolean => selected === null || selected === name;
  const style = (name: string, colour: string, opacity: number): StructureStyle =>
    ({ visible: true, colour, opacity: selected === name ? 1 : opacity });
  const colourOf = (model: LoadedModel, name: string): string =>
    model.structures.find((s) => s.name === name)?.colour ?? "#cccccc";
  const byChange = (): boolean => mode === "overlay" || colourByChange.checked;
  let sideByChange = false;

  const applyStyles = (): void => {
    for (const name of modelA.meshes.keys()) {
      sceneA.applyStyle(name, style(name, colourOf(modelA, name), DEFAULT_OPACITY[name] ?? 1), shown(name), false, modelA);
    }
    const painted = byChange();
    for (const name of modelB.meshes.keys()) {
      const colour = painted ? "#ffffff" : colourOf(modelB, name);
      sceneB.applyStyle(name, style(name, colour, DEFAULT_OPACITY[name] ?? 1), shown(name), false, modelB);
    }
    if (ghost) {
      for (const name of ghost.meshes.keys()) {
        const lost = statusOf(name) === "disappeared";
        const faint = (DEFAULT_OPACITY[name] ?? 1) < 1 ? 0.05 : lost ? 0.55 : 0.2;
        sceneB.applyStyle(name, { visible: true, colour: lost ? hex(SHRINK) : GHOST, opacity: faint },
          mode === "overlay" && shown(name), false, ghost);
      }
    }
    const row = selected ? byName.get(selected) : undefined;
    noteA.hidden = !(row?.status === "appeared" && mode === "side");
    noteA.textContent = "Not in the baseline: it appeared";
    noteB.hidden = row?.status !== "disappeared";
    noteB.textContent = mode === "overlay" ? "Not in the follow-up: it disappeared (blue, from the baseline)"
      : "Not in the follow-up: it disappeared";
  };

  const paint = (): void => {
    limit = range ?? autoLimit;
    const painted = byChange();
    if (painted) paintChange(modelB, limit, statusOf); else paintAnatomy(modelB);
    bar.setTicks(colourBarTicks(limit));
    bar.element.hidden = !painted;
    rangeSelect.hidden = !painted;
    vpB.dataset.painted = painted ? "change" : "anatomy";
    applyStyles();
  };

  const describeSelected = (): void => {
    const r = selected ? byName.get(selected) : undefined;
    if (!r) { info.textContent = "Click a structure (in 3D or in the table) to show only it."; return; }
    const v = (x: number | null): string => (x === null ? "—" : `${x.toFixed(1)} mL`);
    const d = r.distance_mm;
    info.replaceChildren(h("strong", {}, structureLabel(r.name)),
      ` · ${v(r.volume_base_ml)} → ${v(r.volume_follow_ml)} (${formatSigned(r.change_ml, 1, " mL")}, ${formatPercent(r)})`,
      d ? ` · surface moved ${formatSigned(d.mean, 1, " mm")} on average (5–95 %: ${formatSigned(d.p5, 1)} to ${formatSigned(d.p95, 1)} mm)` : "",
      r.dice !== null ? ` · overlap (Dice) ${r.dice.toFixed(2)}` : "");
  };

  /** Shows only ``name`` (null: everything) in every view, framed unless ``frame`` is false. */
  const isolate = (name: string | null, frame: boolean): void => {
    selected = name && byName.has(name) ? name : null;
    applyStyles();
    redraw();
    describeSelected();
    const scene = mode === "side" && selected !== null && !modelA.meshes.has(selected) ? sceneB : active();
    if (frame) scene.focus(selected);
    scheduleUrl();
  };
  select = (name) => isolate(name, true);

  const setMode = async (m: CompareMode): Promise<void> => {
    mode = m;
    for (const b of modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    viewports.dataset.mode = m;
    vpA.hidden = m === "overlay";
    labelB.textContent = m === "overlay" ? `After · ${c.follow.study_name}, over the baseline (grey)` : `After · ${c.follow.study_name}`;
    // The overlay is always coloured by change; side by side, as the user chose.
    if (m === "overlay") { sideByChange = colourByChange.checked; colourByChange.checked = true; }
    else if (colourByChange.disabled) colourByChange.checked = sideByChange;
    colourByChange.disabled = m === "overlay";
    if (m === "overlay" && !ghost) {
      vpB.dataset.ghost = "loading";
      const loaded = await loadModel(c.base.glb_url).catch(() => null);
      if (gone()) return;
      if (loaded && sceneB.add(loaded)) ghost = loaded;
      else toast("The baseline model could not be loaded for the overlay.", "error");
      vpB.dataset.ghost = ghost ? "ready" : "failed";
    }
    paint();
    scheduleUrl();
  };
  colourByChange.addEventListener("change", paint);
  rangeSelect.addEventListener("change", () => { range = rangeSelect.value ? Number(rangeSelect.value) : null; paint(); scheduleUrl(); });

  // Both models are in the baseline's RAS frame: the cameras share one pose.
  const link = linkViews([sceneA, sceneB]);
  sceneA.onChange = () => { link(0); scheduleUrl(); };
  sceneB.onChange = () => { link(1); scheduleUrl(); };
  if (initial.camera) sceneA.setCamera(initial.camera.position, initial.camera.target);
  link(0);

  for (const [scene, i] of [[sceneA, 0], [sceneB, 1]] as const) {
    let down: [number, number] | null = null;
    const canvas = scene.renderer.domElement;
    canvas.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
    canvas.addEventListener("pointerup", (e) => {
      if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) < 4) {
        const hit = scene.pick(e.clientX, e.clientY);
        if (hit !== selected) select(hit);
      }
      down = null;
    });
    canvas.dataset.side = i === 0 ? "before" : "after";
  }
  const onKey = (e: KeyboardEvent): void => {
    if ((e.target as HTMLElement).matches("input, select, textarea")) return;
    const views: StandardView[] = ["anterior", "posterior", "right", "left", "superior"];
    const n = Number(e.key);
    if (n >= 1 && n <= 5) active().view(views[n - 1]!);
    else if (e.key === "Escape") select(null);
  };
  document.addEventListener("keydown", onKey);
  cleanups.push(() => document.removeEventListener("keydown", onKey));

  let frames = 0;
  const ready = (): void => {
    if (++frames < 2) return;
    document.body.dataset.compareReady = String(performance.now());
  };
  sceneA.onFrame = () => { sceneA.onFrame = null; ready(); };
  sceneB.onFrame = () => { sceneB.onFrame = null; ready(); };
  await setMode(mode);
  // A link with a camera keeps it; one without frames what it selects.
  isolate(selected, initial.camera === null);
  sceneA.requestFrame();
  sceneB.requestFrame();
}
