// The studies list: live progress through Server-Sent Events, search, delete, and each
// study's comparisons with another.
import { api, describe, unwrap, type Comparison, type Study } from "../api/client";
import { decodeUserEvent, listen, USER_EVENT_NAMES, type UserEvent } from "../api/events";
import { h, toast } from "../ui/dom";
import { jobSummary } from "../ui/jobs";
import { currentUser, topBar } from "../ui/shell";
import type { Leave } from "../router";
import { comparisonsOf, openCompareDialog } from "./comparelist";
import { renameForm } from "./rename";
import { pacsPanel } from "./pacs";
import { StudyList, type CardActions } from "./studylist";
import { uploadPanel } from "./upload";
import { signInUrl } from "../ui/returnto";

export { jobSummary };

export function studiesPage(go: (url: string) => void) {
  return async (root: HTMLElement): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go(signInUrl()); return () => undefined; }
    const studies = new Map<string, Study>();
    const comparisons = new Map<string, Comparison>();
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
    const retry = (study: Study): void => {
      const job = study.latest_job;
      if (!job) return;
      void api.POST("/api/jobs/{job_id}/retry", { params: { path: { job_id: job.id } } })
        .then((r) => { if (!r.response.ok) toast(describe(r.response.status, r.error), "error"); });
    };
    const actions: CardActions = {
      remove, removeComparison, rename, retry, open: (s) => go(`/studies/${s.id}`),
      compare: (s) => openCompareDialog(s, [...studies.values()], go),
    };
    const list = new StudyList(actions);
    const draw = (): void => {
      list.show(studies.values(), comparisons.values(), renaming, search.value);
      empty.hidden = studies.size > 0;
    };
    search.addEventListener("input", draw);

    root.append(
      topBar(user, go),
      h("main", { class: "studies-page" },
        h("div", { class: "intake" }, uploadPanel(user.is_admin), pacsPanel()),
        h("section", { class: "panel list", "aria-labelledby": "studies-title" },
          h("div", { class: "row" }, h("h2", { id: "studies-title" }, "Studies"), h("span", { class: "spacer" }), search),
          empty, list.el)));

    // Events first, then the list: nothing that changes in between is missed.
    const events = new EventSource("/api/events");
    const onEvent = (event: UserEvent): void => {
      switch (event.event) {
        case "study":
          studies.set(event.data.id, event.data);
          break;
        case "study_deleted":
          studies.delete(event.data.id);
          for (const c of comparisonsOf(comparisons.values(), event.data.id)) comparisons.delete(c.id); // deleted with it
          break;
        case "job_deleted":
          if (!comparisons.delete(event.data.id)) return; // a comparison deleted in another tab
          break;
        case "job": {
          // A comparison's progress comes as its job's; one not seen yet (made in another tab) is read.
          const job = event.data;
          if (job.kind !== "comparison") return;
          const known = comparisons.get(job.id);
          if (!known) {
            void api.GET("/api/comparisons/{comparison_id}", { params: { path: { comparison_id: job.id } } })
              .then((r) => { if (r.data) { comparisons.set(r.data.id, r.data); draw(); } });
            return;
          }
          comparisons.set(job.id, { ...known, job });
          break;
        }
        case "ready":
          // Each (re)connection starts so: what changed while disconnected is read afresh.
          void load();
          return;
      }
      draw();
    };
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
    listen(events, USER_EVENT_NAMES, decodeUserEvent, onEvent);
    await load();
    return () => events.close();
  };
}
