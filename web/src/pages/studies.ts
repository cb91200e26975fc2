// The studies list: live progress through Server-Sent Events, search, delete, and each
// study's comparisons with another.
import { api, describe, unwrap, type Comparison, type Job, type Study } from "../api/client";
import { formatDate, h, toast } from "../ui/dom";
import { engineAndQuality, jobSummary } from "../ui/jobs";
import { currentUser, topBar } from "../ui/shell";
import type { Leave } from "../router";
import { comparisonItem, comparisonsOf, finished, openCompareDialog } from "./comparelist";
import { renameForm } from "./rename";
import { pacsPanel } from "./pacs";
import { uploadPanel } from "./upload";

export { jobSummary };

interface CardActions {
  remove(s: Study): void;
  compare(s: Study): void;
  rename(s: Study): void;
  removeComparison(c: Comparison): void;
}

function card(study: Study, go: (url: string) => void, act: CardActions, compared: Comparison[],
  canCompare: boolean, renaming: HTMLElement | undefined): HTMLElement {
  const job = study.latest_job;
  const done = job?.state === "done";
  const thumb = done && study.thumbnail_url
    ? h("img", { src: study.thumbnail_url, alt: "", loading: "lazy", width: 96, height: 96 })
    : h("div", { class: "thumb-empty", "aria-hidden": "true" });
  const progress = h("progress", { max: 100, value: job ? job.percent : 0,
    "aria-label": `Progress of ${study.name}` });
  const del = h("button", { class: "ghost danger", type: "button",
    "aria-label": `Delete ${study.name}` }, "Delete");
  del.addEventListener("click", (e) => { e.stopPropagation(); act.remove(study); });
  const rename = renaming ? null : h("button", { type: "button", class: "ghost",
    "aria-label": `Rename ${study.name || "Untitled study"}` }, "Rename");
  rename?.addEventListener("click", () => act.rename(study));
  const compare = done ? h("button", { type: "button", "aria-label": `Compare ${study.name} with another study`,
    title: canCompare ? "Compare with another of your studies" : "Process another study to compare with", disabled: !canCompare },
  "Compare…") : null;
  compare?.addEventListener("click", () => act.compare(study));
  const comparisons = compared.length
    ? h("ul", { class: "comparisons", "aria-label": `Comparisons of ${study.name}` },
      ...compared.map((c) => comparisonItem(c, act.removeComparison)))
    : null;
  comparisons?.addEventListener("dblclick", (e) => e.stopPropagation());
  const retry = job?.state === "failed" || job?.state === "cancelled"
    ? h("button", { type: "button", "aria-label": `Retry ${study.name}` }, "Retry")
    : null;
  retry?.addEventListener("click", () => {
    void api.POST("/api/jobs/{job_id}/retry", { params: { path: { job_id: job!.id } } })
      .then((r) => { if (!r.response.ok) toast(describe(r.response.status, r.error), "error"); });
  });
  const open = done
    ? h("a", { href: `/studies/${study.id}`, "data-link": true, class: "button primary" }, "Open")
    : null;
  const el = h("li", { class: `study state-${job?.state ?? "none"}`, "data-study": study.id },
    h("div", { class: "thumb" }, thumb),
    h("div", { class: "info" },
      renaming ?? h("div", { class: "name" }, study.name || "Untitled study"),
      h("div", { class: "muted small study-engine" }, engineAndQuality(job)),
      h("div", { class: "muted small" },
        `${formatDate(study.created_at)} · ${study.source_format} · ${study.shape.join("×")}`),
      h("div", { class: "job-status", "data-state": job?.state ?? "none" }, jobSummary(job)),
      job && !done && job.state !== "failed" ? progress : null),
    h("div", { class: "actions" }, open, compare, retry, rename, del),
    comparisons);
  if (done) el.addEventListener("dblclick", () => go(`/studies/${study.id}`));
  return el;
}

export function studiesPage(go: (url: string) => void) {
  return async (root: HTMLElement): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go("/signin"); return () => undefined; }
    const studies = new Map<string, Study>();
    const comparisons = new Map<string, Comparison>();
    const list = h("ul", { class: "studies", "aria-live": "polite" });
    const search = h("input", { type: "search", placeholder: "Filter studies", "aria-label": "Filter studies" });
    const empty = h("p", { class: "muted empty" }, "No studies yet: drop a CT scan on the left.");

    const remove = (study: Study): void => {
      if (!confirm(`Delete "${study.name}" and all of its results? This cannot be undone.`)) return;
      void api.DELETE("/api/studies/{study_id}", { params: { path: { study_id: study.id } } })
        .then((r) => {
          if (!r.response.ok) throw new Error(describe(r.response.status, r.error));
          studies.delete(study.id);
          draw();
        }).catch((e: unknown) => toast(String(e), "error"));
    };
    const removeComparison = (c: Comparison): void => {
      if (!confirm(`Delete the comparison of "${c.base.study_name}" with "${c.follow.study_name}"?`)) return;
      void api.DELETE("/api/comparisons/{comparison_id}", { params: { path: { comparison_id: c.id } } })
        .then((r) => {
          if (!r.response.ok && r.response.status !== 404) throw new Error(describe(r.response.status, r.error));
          comparisons.delete(c.id);
          draw();
        }).catch((e: unknown) => toast(String(e), "error"));
    };
    // Open rename forms survive the redraws that live progress makes.
    const renaming = new Map<string, HTMLElement>();
    const rename = (study: Study): void => {
      const close = (): void => { renaming.delete(study.id); draw(); };
      renaming.set(study.id, renameForm(study, (s) => { studies.set(s.id, s); close(); }, close));
      draw();
    };
    const actions: CardActions = {
      remove, removeComparison, rename, compare: (s) => openCompareDialog(s, [...studies.values()], go),
    };
    const draw = (): void => {
      const needle = search.value.trim().toLowerCase();
      const shown = [...studies.values()]
        .filter((s) => !needle || s.name.toLowerCase().includes(needle) || s.labels.some((l) => l.toLowerCase().includes(needle)))
        .sort((a, b) => b.created_at.localeCompare(a.created_at));
      const ready = [...studies.values()].filter(finished).length;
      list.replaceChildren(...shown.map((s) =>
        card(s, go, actions, comparisonsOf(comparisons.values(), s.id), ready > 1, renaming.get(s.id))));
      empty.hidden = studies.size > 0;
    };
    search.addEventListener("input", draw);

    root.append(
      topBar(user, go),
      h("main", { class: "studies-page" },
        h("div", { class: "intake" }, uploadPanel(user.is_admin), pacsPanel()),
        h("section", { class: "panel list", "aria-labelledby": "studies-title" },
          h("div", { class: "row" }, h("h2", { id: "studies-title" }, "Studies"), h("span", { class: "spacer" }), search),
          empty, list)));

    // Events first, then the list: nothing that changes in between is missed.
    const events = new EventSource("/api/events");
    events.addEventListener("study", (e) => {
      const study = JSON.parse((e as MessageEvent<string>).data) as Study;
      studies.set(study.id, study);
      draw();
    });
    events.addEventListener("study_deleted", (e) => {
      const id = (JSON.parse((e as MessageEvent<string>).data) as { id: string }).id;
      studies.delete(id);
      for (const c of comparisonsOf(comparisons.values(), id)) comparisons.delete(c.id); // deleted with it
      draw();
    });
    events.addEventListener("job_deleted", (e) => {
      const id = (JSON.parse((e as MessageEvent<string>).data) as { id: string }).id;
      if (comparisons.delete(id)) draw(); // deleted in another tab
    });
    // A comparison's progress comes as its job's; one not seen yet (made in another tab) is read.
    events.addEventListener("job", (e) => {
      const job = JSON.parse((e as MessageEvent<string>).data) as Job;
      if (job.kind !== "comparison") return;
      const known = comparisons.get(job.id);
      if (known) {
        comparisons.set(job.id, { ...known, job });
        draw();
        return;
      }
      void api.GET("/api/comparisons/{comparison_id}", { params: { path: { comparison_id: job.id } } })
        .then((r) => { if (r.data) { comparisons.set(r.data.id, r.data); draw(); } });
    });
    // Each (re)connection starts with `ready`: what changed while disconnected is read afresh.
    const load = async (): Promise<void> => {
      try {
        const [data, compared] = await Promise.all([
          api.GET("/api/studies", { params: { query: { limit: 500 } } }).then(unwrap),
          api.GET("/api/comparisons", { params: { query: { limit: 500 } } }).then(unwrap),
        ]);
        studies.clear();
        for (const s of data.items) studies.set(s.id, s);
        comparisons.clear();
        for (const c of compared.items) comparisons.set(c.id, c);
      } catch (e) {
        toast(String(e instanceof Error ? e.message : e), "error");
      }
      draw();
    };
    events.addEventListener("ready", () => void load());
    await load();
    return () => events.close();
  };
}
