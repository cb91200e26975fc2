// The studies list: live progress through Server-Sent Events, search, delete.
import { api, describe, unwrap, type Job, type Study } from "../api/client";
import { formatDate, formatDuration, h, toast } from "../ui/dom";
import { currentUser, topBar } from "../ui/shell";
import type { Leave } from "../router";
import { uploadPanel } from "./upload";

const STAGE_LABEL: Record<string, string> = {
  queued: "Queued", ingest: "Reading", segment: "Segmenting", mesh: "Building surfaces",
  export: "Exporting", stats: "Measuring", done: "Ready", failed: "Failed", cancelled: "Cancelled",
};

export function jobSummary(job: Job | null | undefined): string {
  if (!job) return "Not processed";
  if (job.state === "queued") {
    const pos = job.queue_position ? `${job.queue_position} ahead` : "next";
    return `Queued · ${pos}${job.eta_seconds ? ` · about ${formatDuration(job.eta_seconds)}` : ""}`;
  }
  if (job.state === "running") {
    const eta = job.eta_seconds ? ` · ${formatDuration(job.eta_seconds)} left` : "";
    return `${STAGE_LABEL[job.stage] ?? job.stage} ${Math.round(job.percent)}%${eta}`;
  }
  if (job.state === "failed") return `Failed: ${job.error ?? job.message}`;
  if (job.state === "done") {
    const took = job.duration_s ? ` in ${formatDuration(job.duration_s)}` : "";
    return `Ready · ${job.engine_used ?? "unknown"} engine, ${job.quality}${took}`;
  }
  return STAGE_LABEL[job.state] ?? job.state;
}

function card(study: Study, go: (url: string) => void, remove: (s: Study) => void): HTMLElement {
  const job = study.latest_job;
  const done = job?.state === "done";
  const thumb = done && study.thumbnail_url
    ? h("img", { src: study.thumbnail_url, alt: "", loading: "lazy", width: 96, height: 96 })
    : h("div", { class: "thumb-empty", "aria-hidden": "true" });
  const progress = h("progress", { max: 100, value: job ? job.percent : 0,
    "aria-label": `Progress of ${study.name}` });
  const del = h("button", { class: "ghost danger", type: "button",
    "aria-label": `Delete ${study.name}` }, "Delete");
  del.addEventListener("click", (e) => { e.stopPropagation(); remove(study); });
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
      h("div", { class: "name" }, study.name || "Untitled study"),
      h("div", { class: "muted small" },
        `${formatDate(study.created_at)} · ${study.source_format} · ${study.shape.join("×")}`),
      h("div", { class: "job-status", "data-state": job?.state ?? "none" }, jobSummary(job)),
      job && !done && job.state !== "failed" ? progress : null),
    h("div", { class: "actions" }, open, retry, del));
  if (done) el.addEventListener("dblclick", () => go(`/studies/${study.id}`));
  return el;
}

export function studiesPage(go: (url: string) => void) {
  return async (root: HTMLElement): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go("/signin"); return () => undefined; }
    const studies = new Map<string, Study>();
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
    const draw = (): void => {
      const needle = search.value.trim().toLowerCase();
      const shown = [...studies.values()]
        .filter((s) => !needle || s.name.toLowerCase().includes(needle) || s.labels.some((l) => l.toLowerCase().includes(needle)))
        .sort((a, b) => b.created_at.localeCompare(a.created_at));
      list.replaceChildren(...shown.map((s) => card(s, go, remove)));
      empty.hidden = studies.size > 0;
    };
    search.addEventListener("input", draw);

    root.append(
      topBar(user, go),
      h("main", { class: "studies-page" },
        uploadPanel(),
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
      studies.delete((JSON.parse((e as MessageEvent<string>).data) as { id: string }).id);
      draw();
    });
    // Each (re)connection starts with `ready`: what changed while disconnected is read afresh.
    const load = async (): Promise<void> => {
      try {
        const data = unwrap(await api.GET("/api/studies", { params: { query: { limit: 500 } } }));
        studies.clear();
        for (const s of data.items) studies.set(s.id, s);
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
