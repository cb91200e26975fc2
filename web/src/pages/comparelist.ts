// Comparisons on the studies page: the "Compare…" dialog and each study's comparisons.
import { api, describe, unwrap, type Comparison, type Study } from "../api/client";
import { formatDate, h } from "../ui/dom";
import { engineAndQuality, jobSummary } from "../ui/jobs";

/** The pair in time order: the study uploaded first is the baseline ("before"). */
export function defaultPair(a: Study, b: Study): [Study, Study] {
  return a.created_at <= b.created_at ? [a, b] : [b, a];
}

/** A study as the Compare dialog offers it: name, when, and which engine at which quality, so
 * studies of the same name can be told apart. */
export function studyChoiceLabel(study: Study, when: (iso: string) => string = formatDate): string {
  const made = engineAndQuality(study.latest_job);
  return `${study.name || "Untitled study"} — ${when(study.created_at)}${made ? ` · ${made}` : ""}`;
}

export const finished = (s: Study): boolean => s.latest_job?.state === "done";

/** Comparisons that involve ``studyId``, newest first. */
export function comparisonsOf(all: Iterable<Comparison>, studyId: string): Comparison[] {
  return [...all].filter((c) => c.base.study_id === studyId || c.follow.study_id === studyId)
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
}

const gaveUp = (c: Comparison): boolean => c.job.state === "failed" || c.job.state === "cancelled";

/** The comparisons a study's card lists: a failed or cancelled one only while it is the newest
 * of its pair (an older failure, or one tried again since, is clutter on both cards). */
export function shownComparisons(all: Iterable<Comparison>, studyId: string): Comparison[] {
  const newestOfPair = new Set<string>();
  return comparisonsOf(all, studyId).filter((c) => {
    const pair = [c.base.study_id, c.follow.study_id].sort().join("|");
    const newest = !newestOfPair.has(pair);
    newestOfPair.add(pair);
    return !gaveUp(c) || newest;
  });
}

/** Asks which study to compare ``study`` with, which is before and after, then creates the
 * comparison and opens it. */
export function openCompareDialog(study: Study, others: Study[], go: (url: string) => void): void {
  const candidates = others.filter((s) => s.id !== study.id && finished(s))
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  const other = h("select", { id: "compare-other", "aria-label": "Compare with" },
    ...candidates.map((s) => h("option", { value: s.id }, studyChoiceLabel(s))));
  const before = h("strong", { "data-testid": "compare-before" });
  const after = h("strong", { "data-testid": "compare-after" });
  const beforeMade = h("span", { class: "muted small", "data-testid": "compare-before-engine" });
  const afterMade = h("span", { class: "muted small", "data-testid": "compare-after-engine" });
  const swap = h("button", { type: "button", title: "Swap before and after", "aria-label": "Swap before and after" }, "⇄ Swap");
  const affine = h("input", { type: "checkbox", id: "compare-affine" });
  const error = h("p", { class: "error", role: "alert" });
  const cancel = h("button", { type: "button" }, "Cancel");
  const submit = h("button", { type: "submit", class: "primary" }, "Compare");
  let pair: [Study, Study] | null = null;
  const choose = (): void => {
    const chosen = candidates.find((s) => s.id === other.value);
    pair = chosen ? defaultPair(study, chosen) : null;
    show();
  };
  const show = (): void => {
    before.textContent = pair?.[0].name ?? "–";
    after.textContent = pair?.[1].name ?? "–";
    beforeMade.textContent = pair ? engineAndQuality(pair[0].latest_job) : "";
    afterMade.textContent = pair ? engineAndQuality(pair[1].latest_job) : "";
    submit.disabled = pair === null;
    swap.disabled = pair === null;
  };
  const form = h("form", { method: "dialog", class: "compare-form" },
    h("h2", { id: "compare-title" }, `Compare "${study.name || "Untitled study"}"`),
    candidates.length
      ? h("label", { class: "field" }, "With", other)
      : h("p", { class: "muted" }, "No other finished study to compare with: upload and process another one first."),
    h("div", { class: "pair" },
      h("div", {}, h("span", { class: "muted small" }, "Before (baseline)"), before, beforeMade),
      swap,
      h("div", {}, h("span", { class: "muted small" }, "After (follow-up)"), after, afterMade)),
    h("label", { class: "check" }, affine,
      " Allow scaling (affine alignment) ", h("span", { class: "muted small" },
        "— for different scanners or a patient whose size changed; rigid otherwise")),
    error,
    h("div", { class: "row end" }, cancel, submit));
  const dialog = h("dialog", { class: "compare-dialog", "aria-labelledby": "compare-title" }, form);
  other.addEventListener("change", choose);
  swap.addEventListener("click", () => { if (pair) { pair = [pair[1], pair[0]]; show(); } });
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!pair) return;
    submit.disabled = true;
    error.textContent = "";
    const body = { base_study_id: pair[0].id, follow_study_id: pair[1].id, affine: affine.checked };
    void api.POST("/api/comparisons", { body }).then((r) => {
      const created = unwrap(r);
      dialog.close();
      go(`/comparisons/${created.id}`);
    }).catch((err: unknown) => {
      error.textContent = err instanceof Error ? err.message : String(err);
      submit.disabled = false;
    });
  });
  document.body.append(dialog);
  choose();
  dialog.showModal();
}

/** One comparison under a study: which two, its state, open and delete. */
export function comparisonItem(c: Comparison, remove: (c: Comparison) => void): HTMLElement {
  const job = c.job;
  const done = job.state === "done";
  const del = h("button", { type: "button", class: "ghost danger small-button",
    "aria-label": `Delete comparison ${c.base.study_name} → ${c.follow.study_name}` }, "Delete");
  del.addEventListener("click", () => remove(c));
  const retry = job.state === "failed" || job.state === "cancelled"
    ? h("button", { type: "button", class: "small-button" }, "Retry") : null;
  retry?.addEventListener("click", () => {
    void api.POST("/api/jobs/{job_id}/retry", { params: { path: { job_id: job.id } } })
      .then((r) => { if (!r.response.ok) throw new Error(describe(r.response.status, r.error)); })
      .catch((e: unknown) => { retry.textContent = String(e instanceof Error ? e.message : e); });
  });
  return h("li", { class: "comparison", "data-comparison": c.id },
    h("span", { class: "pair-names" }, h("span", { class: "muted" }, "Compared: "),
      c.base.study_name, h("span", { class: "muted" }, " → "), c.follow.study_name),
    h("span", { class: "comparison-status small", "data-state": job.state }, jobSummary(job)),
    job.state === "queued" || job.state === "running"
      ? h("progress", { max: 100, value: job.percent, "aria-label": "Comparison progress" }) : null,
    h("span", { class: "actions" },
      h("a", { href: `/comparisons/${c.id}`, "data-link": true, class: `button small-button${done ? " primary" : ""}` },
        done ? "Open" : "View"),
      retry, del));
}
