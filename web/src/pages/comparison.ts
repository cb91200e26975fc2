// A comparison of two studies: live progress, the alignment's verdict, the change of every
// structure (table, chart, CSV) and the two models side by side (linked cameras) or overlaid
// (the follow-up coloured by how far its surface moved). This module keeps the page, its progress
// and its URL; comparepanel.ts draws the results and viewer/comparestage.ts the 3D.
import { api, artifact, describe, unwrap, type Comparison, type Job } from "../api/client";
import { decodeJobEvent, JOB_EVENT_NAMES, listen as listenTo } from "../api/events";
import { formatDate, h, toast } from "../ui/dom";
import { jobSummary } from "../ui/jobs";
import { currentUser, topBar } from "../ui/shell";
import type { Leave } from "../router";
import { decodeCompareView, encodeCompareView, parseReport, type ComparisonReport } from "../viewer/comparison";
import { CompareStage } from "../viewer/comparestage";
import { changesPanel, verdictBanner } from "./comparepanel";
import { signInUrl } from "../ui/returnto";

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function notFound(root: HTMLElement, bar: HTMLElement, reason: string): Leave {
  root.append(bar, h("main", { class: "message" }, h("h1", {}, "Comparison not found"),
    h("p", {}, reason), h("a", { href: "/", "data-link": true }, "Back to studies")));
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

export function comparisonPage(go: (url: string) => void) {
  return async (root: HTMLElement, params: Record<string, string>): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go(signInUrl()); return () => undefined; }
    const id = params.id!;
    let comparison: Comparison;
    try {
      comparison = unwrap(await api.GET("/api/comparisons/{comparison_id}", { params: { path: { comparison_id: id } } }));
    } catch (e) {
      return notFound(root, topBar(user, go), message(e));
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
      }).catch((e: unknown) => toast(message(e), "error"));
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
      listenTo(events, JOB_EVENT_NAMES, decodeJobEvent, (event) => {
        if (event.event === "job") { show(event.data); return; }
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

/** The report at ``url`` (comparison.json). */
async function readReport(url: string): Promise<ComparisonReport> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`the results could not be read (${r.status})`);
  return parseReport(await r.json());
}

/** The finished comparison: verdict, table and chart, 3D; the view (mode, selection, order,
 * search, colour range, camera) kept in the URL. */
async function showResults(c: Comparison, box: HTMLElement, gone: () => boolean, cleanups: (() => void)[]): Promise<void> {
  const jsonUrl = artifact(c.job, "comparison_json")?.url;
  const glbUrl = artifact(c.job, "comparison_glb")?.url;
  if (!jsonUrl || !glbUrl) {
    box.append(h("p", { class: "error" }, "This comparison has no results to show."));
    return;
  }
  let report: ComparisonReport;
  try {
    report = await readReport(jsonUrl);
  } catch (e) {
    box.append(h("p", { class: "error" }, message(e)));
    return;
  }
  if (gone()) return;
  const rows = report.structures;
  const known = new Set(rows.map((r) => r.name));
  const start = decodeCompareView(location.search);
  let selected = start.selected && known.has(start.selected) ? start.selected : null;

  let urlTimer = 0;
  const writeUrl = (): void => {
    const q = encodeCompareView({ ...stage.state(), ...panel.order(), selected }).toString();
    history.replaceState(null, "", `${location.pathname}${q ? `?${q}` : ""}`);
  };
  const scheduleUrl = (): void => { clearTimeout(urlTimer); urlTimer = window.setTimeout(writeUrl, 300); };
  cleanups.push(() => clearTimeout(urlTimer));

  /** Shows only ``name`` (null: everything) in the table and in 3D, framed unless ``frame`` is
   * false. Until the models are here, it only marks it in the table. */
  const isolate = (name: string | null, frame: boolean): void => {
    selected = name && known.has(name) ? name : null;
    stage.isolate(selected, frame);
    panel.show(selected);
    scheduleUrl();
  };
  const events = { pick: (name: string | null) => isolate(name, true), change: scheduleUrl };
  const panel = changesPanel(c.job, rows, start, events);
  const stage = new CompareStage({
    base: { name: c.base.study_name, glb: c.base.glb_url }, follow: { name: c.follow.study_name, glb: glbUrl }, rows,
  }, { ...start, selected }, events);
  cleanups.push(() => stage.dispose());
  box.append(verdictBanner(report.alignment), h("div", { class: "compare-body" }, panel.element, stage.element));
  panel.show(selected);

  if (!(await stage.load())) return;
  // A link with a camera keeps it; one without frames what it selects.
  isolate(selected, start.camera === null);
}
