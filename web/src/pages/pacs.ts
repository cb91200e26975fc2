// Import from PACS: choose a DICOMweb server (the site's or one of your own), search its series
// by date, modality and description, and import one; it then appears in the studies list with
// live progress, as an upload does. Search results are shown here only: Iris keeps none of them.
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { h, toast } from "../ui/dom";

export type PacsServer = components["schemas"]["PacsServerPublic"];
export type SeriesHit = components["schemas"]["PacsSeriesHit"];
type Auth = PacsServer["auth"];

export interface SearchFields { dateFrom: string; dateTo: string; modality: string; description: string }

/** The search's query string values: empty fields are left out, the modality in capitals. */
export function searchQuery(f: SearchFields): Record<string, string> {
  const query: Record<string, string> = {};
  if (f.dateFrom) query.date_from = f.dateFrom;
  if (f.dateTo) query.date_to = f.dateTo;
  if (f.modality.trim()) query.modality = f.modality.trim().toUpperCase();
  if (f.description.trim()) query.description = f.description.trim();
  return query;
}

/** One line describing a series in the results. */
export function seriesLabel(s: SeriesHit): string {
  const images = s.instance_count === null ? "" : ` · ${s.instance_count} images`;
  return `${s.date ?? "no date"} · ${s.modality || "?"} · ${s.description || "(no description)"}${images}`;
}

function serverForm(onAdded: (s: PacsServer) => void): HTMLElement {
  const name = h("input", { required: true, maxlength: 100, "aria-label": "Server name", placeholder: "Name" });
  const url = h("input", { required: true, type: "url", "aria-label": "DICOMweb address",
    placeholder: "https://pacs.example.org/dicom-web" });
  const auth = h("select", { "aria-label": "Authentication" },
    h("option", { value: "none" }, "No sign-in"), h("option", { value: "basic" }, "User and password"),
    h("option", { value: "bearer" }, "Token"));
  const username = h("input", { "aria-label": "PACS user", placeholder: "User", autocomplete: "off" });
  const secret = h("input", { type: "password", "aria-label": "PACS password or token",
    placeholder: "Password or token", autocomplete: "new-password" });
  const form = h("form", { class: "pacs-server-form" }, name, url, auth, username, secret,
    h("button", { type: "submit" }, "Add server"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const a = auth.value as Auth;
    const body = { name: name.value, url: url.value, auth: a,
      username: a === "basic" ? username.value : null, secret: a === "none" ? null : secret.value };
    void api.POST("/api/pacs/servers", { body }).then(unwrap)
      .then((s) => { form.reset(); onAdded(s); })
      .catch((err: unknown) => toast(err instanceof Error ? err.message : String(err), "error"));
  });
  return form;
}

export function pacsPanel(): HTMLElement {
  const servers = h("select", { "aria-label": "PACS server", "data-testid": "pacs-server" });
  const remove = h("button", { type: "button", class: "ghost danger" }, "Remove server");
  const dateFrom = h("input", { type: "date", "aria-label": "From date" });
  const dateTo = h("input", { type: "date", "aria-label": "To date" });
  const modality = h("input", { value: "CT", maxlength: 16, size: 4, "aria-label": "Modality" });
  const description = h("input", { maxlength: 64, "aria-label": "Description", placeholder: "Description" });
  const searchButton = h("button", { type: "submit", class: "primary" }, "Search");
  const status = h("p", { class: "muted small", role: "status", "aria-live": "polite" });
  const results = h("ul", { class: "pacs-results", "aria-label": "Series in the PACS" });
  const sendBack = h("input", { type: "checkbox", "data-testid": "pacs-send-results" });
  const sendLabel = h("label", { class: "small", title: "Iris sends the DICOM-SEG and the "
    + "measurement report to this PACS, filed with the CT's patient, when processing is done." },
  sendBack, " Send the results back to this PACS when done");
  let known: PacsServer[] = [];

  const show = (list: PacsServer[], chosen?: string): void => {
    known = list;
    servers.replaceChildren(...list.map((s) => h("option", { value: s.id }, s.shared ? `${s.name} (shared)` : s.name)));
    if (chosen) servers.value = chosen;
    const current = known.find((s) => s.id === servers.value);
    remove.hidden = !current || current.shared;
    searchButton.disabled = !list.length;
    if (!list.length) status.textContent = "No PACS yet: add your DICOMweb server below.";
  };
  const load = (chosen?: string): Promise<void> =>
    api.GET("/api/pacs/servers").then(unwrap).then((r) => show(r.items, chosen))
      .catch((e: unknown) => toast(e instanceof Error ? e.message : String(e), "error"));
  servers.addEventListener("change", () => show(known));
  remove.addEventListener("click", () => {
    const id = servers.value;
    if (!id || !confirm("Remove this PACS server from your account?")) return;
    void api.DELETE("/api/pacs/servers/{server_id}", { params: { path: { server_id: id } } })
      .then(() => load());
  });

  const importSeries = async (hit: SeriesHit, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    status.textContent = "Retrieving the series from the PACS…";
    try {
      const body = { series_uid: hit.series_uid, study_uid: hit.study_uid, quality: "fast" as const,
        engine: "auto" as const, send_results: sendBack.checked };
      const pulled = unwrap(await api.POST("/api/pacs/servers/{server_id}/pull",
        { params: { path: { server_id: servers.value } }, body }));
      const then = body.send_results ? "; its results go back to the PACS when done" : "";
      status.textContent = `Imported as "${pulled.study.name}"; processing has started${then}.`;
    } catch (e) {
      status.textContent = `Not imported: ${e instanceof Error ? e.message : String(e)}`;
      button.disabled = false;
    }
  };

  const search = async (): Promise<void> => {
    results.replaceChildren();
    status.textContent = "Searching…";
    const query = searchQuery({ dateFrom: dateFrom.value, dateTo: dateTo.value,
      modality: modality.value, description: description.value });
    try {
      const found = unwrap(await api.GET("/api/pacs/servers/{server_id}/series",
        { params: { path: { server_id: servers.value }, query } }));
      status.textContent = found.items.length ? `${found.items.length} series` : "No series match.";
      results.replaceChildren(...found.items.map((hit) => {
        const button = h("button", { type: "button" }, "Import");
        button.addEventListener("click", () => void importSeries(hit, button));
        return h("li", { "data-series": hit.series_uid },
          h("span", {}, seriesLabel(hit)), h("span", { class: "muted small" }, ` ${hit.patient_name}`), button);
      }));
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : String(e);
    }
  };
  const form = h("form", { class: "row pacs-search" }, dateFrom, dateTo, modality, description, searchButton);
  form.addEventListener("submit", (e) => { e.preventDefault(); void search(); });
  void load();

  return h("details", { class: "panel pacs" },
    h("summary", {}, h("strong", {}, "Import from PACS")),
    h("div", { class: "row" }, servers, remove),
    form, sendLabel, status, results,
    h("details", {}, h("summary", { class: "small" }, "Add a server"), serverForm((s) => void load(s.id))));
}
