// A study opened before its model exists: its job's progress, live, and the viewer as soon as
// the job is done (a link shared mid-job, or a card opened while it runs).
import type { Job, Study, User } from "../api/client";
import { decodeJobEvent, JOB_EVENT_NAMES, listen } from "../api/events";
import type { Leave } from "../router";
import { h } from "../ui/dom";
import { jobSummary } from "../ui/jobs";
import { topBar } from "../ui/shell";

function lead(job: Job | null): string {
  if (!job) return "This study has not been processed yet: start it from the list of studies.";
  if (job.state === "queued" || job.state === "running") return "Its 3D model is being made; it opens here when it is ready.";
  if (job.state === "failed") return "Processing this study failed; it can be tried again from the list of studies.";
  if (job.state === "cancelled") return "Processing this study was cancelled.";
  return "This study has no 3D model.";
}

export function pendingStudy(root: HTMLElement, user: User, go: (url: string) => void, study: Study): Leave {
  const job = study.latest_job;
  const intro = h("p", {}, lead(job));
  const status = h("p", { class: "job-status", role: "status", "aria-live": "polite" });
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Processing progress" });
  const show = (now: Job | null): void => {
    intro.textContent = lead(now);
    status.textContent = jobSummary(now);
    status.dataset.state = now?.state ?? "none";
    bar.value = now?.percent ?? 0;
    bar.hidden = !now || !(now.state === "queued" || now.state === "running");
  };
  show(job);
  root.append(topBar(user, go), h("main", { class: "message", "data-testid": "study-pending" },
    h("h1", {}, study.name), intro, status, bar, h("a", { href: "/", "data-link": true }, "Back to studies")));
  if (!job || !(job.state === "queued" || job.state === "running")) return () => undefined;

  const events = new EventSource(`/api/jobs/${encodeURIComponent(job.id)}/events`);
  listen(events, JOB_EVENT_NAMES, decodeJobEvent, (event) => {
    if (event.event !== "job") { events.close(); show(null); return; }
    show(event.data);
    if (event.data.state === "done") { events.close(); go(location.pathname + location.search); }
    else if (event.data.state !== "queued" && event.data.state !== "running") events.close();
  });
  return () => events.close();
}
