// Send a finished job's DICOM results (the DICOM-SEG and the SR) to a PACS, on a click.
import { api, artifact, unwrap, type Job } from "../api/client";
import { h } from "../ui/dom";

/** The job's results a PACS takes (those it has). */
export const PACS_RESULTS = ["dicom_seg", "dicom_sr"] as const;

export function sendablePacsResults(job: Job): string[] {
  return PACS_RESULTS.filter((name) => artifact(job, name) !== undefined);
}

/** A server choice and a button, or nothing when the job has no DICOM results. */
export function sendToPacs(job: Job): HTMLElement | null {
  if (!sendablePacsResults(job).length) return null;
  const servers = h("select", { "aria-label": "PACS to send to" });
  const send = h("button", { type: "button" }, "Send to PACS");
  const status = h("p", { class: "muted small", role: "status", "aria-live": "polite" });
  void api.GET("/api/pacs/servers").then(unwrap).then((r) => {
    servers.replaceChildren(...r.items.map((s) => h("option", { value: s.id }, s.name)));
    send.disabled = !r.items.length;
    if (!r.items.length) status.textContent = "Add a PACS under “Import from PACS” to send results.";
  }).catch(() => undefined);
  send.addEventListener("click", () => {
    send.disabled = true;
    status.textContent = "Sending…";
    void api.POST("/api/pacs/servers/{server_id}/send",
      { params: { path: { server_id: servers.value } }, body: { job_id: job.id } })
      .then(unwrap)
      .then((r) => { status.textContent = `Sent ${r.instances} DICOM object(s) to the PACS.`; })
      .catch((e: unknown) => { status.textContent = e instanceof Error ? e.message : String(e); })
      .finally(() => { send.disabled = false; });
  });
  return h("section", { class: "pacs-send" }, h("h3", {}, "Results to the PACS"),
    h("div", { class: "row" }, servers, send), status);
}
