// Upload: drag and drop (files or a folder), file and folder pickers, progress with speed, then
// quality/engine (and series when a DICOM folder holds several) and the job.
import { api, describe, unwrap, type Study } from "../api/client";
import { isStudy } from "../api/events";
import type { components, paths } from "../api/schema";
import { formatBytes, h, toast } from "../ui/dom";
import { engineForecast, offeredEngines, type EngineInfo } from "./engines";
import { engineOf, QUALITY_LABELS, qualityOf } from "./jobchoice";

type UploadPath = keyof paths & "/api/studies";
const UPLOAD_PATH: UploadPath = "/api/studies";
export type Limits = components["schemas"]["LimitsPublic"];

/** The file picker's ``accept``: the server's own list (nothing until it has answered). */
export const acceptOf = (limits: Limits | null): string => limits?.upload_suffixes.join(",") ?? "";

/** What to send from a selection: refuse what can never be a study before spending bandwidth.
 * Until the server's ``limits`` are known, only what needs none is checked. */
export function checkSelection(files: File[], limits: Limits | null = null): string | null {
  if (!files.length) return "No files were chosen.";
  if (files.length > 1) return null; // a DICOM folder: its files need no particular names
  const file = files[0]!;
  const name = file.name.toLowerCase();
  if (limits) {
    const detached = limits.detached_header_suffixes.find((e) => name.endsWith(e));
    if (detached) return `"${file.name}" keeps its voxels in a second file: put both in a zip and upload that.`;
    // A file without a suffix is taken as DICOM (scanners often write them so).
    if (name.includes(".") && !limits.upload_suffixes.some((e) => name.endsWith(e))) {
      return `"${file.name}" is not one of the file types this server takes (${limits.upload_suffixes.join(", ")}).`;
    }
    if (file.size > limits.max_upload_bytes) {
      return `"${file.name}" is ${formatBytes(file.size)}; this server takes studies up to ${formatBytes(limits.max_upload_bytes)}.`;
    }
  }
  if (file.size === 0) return `"${file.name}" is empty (0 bytes): choose the scan's file.`;
  return null;
}

/** A refusal worded for the user: the server names the stored copy ("study.nii.gz"), never
 * the user's own file name (names often carry the patient's), so the page puts it back. */
export function nameRefusal(message: string, fileName: string): string {
  const stored = /\bstudy(\.nii\.gz|\.nii|\.nrrd|\.mha|\.zip|\.dcm)\b/g;
  const named = message.replace(/^study(\.nii\.gz|\.nii|\.nrrd|\.mha|\.zip|\.dcm):\s*/, "");
  const rest = named.replace(stored, "it");
  return `"${fileName}" was not accepted: ${rest}`;
}

/** The upload's ``received`` count from a chunk's answer; null when the answer is not one. */
export function receivedOf(body: unknown): number | null {
  return typeof body === "object" && body !== null && "received" in body && typeof body.received === "number"
    ? body.received : null;
}

function putChunk(url: string, chunk: Blob, onProgress: (sent: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new Error("network"));
    xhr.onload = () => {
      const received: unknown = xhr.status === 200 ? receivedOf(xhr.response) : null;
      if (typeof received === "number") resolve(received);
      else reject(new Error(describe(xhr.status, xhr.response)));
    };
    xhr.send(chunk);
  });
}

/** One file through the resumable API: chunks of the server's size; after a network error the
 * upload goes on from what the server says it received. */
async function sendResumable(file: File, onProgress: (sent: number, total: number) => void): Promise<Study> {
  const upload = unwrap(await api.POST("/api/uploads", { body: { size: file.size, filename: file.name } }));
  let received = 0;
  let failures = 0;
  while (received < file.size) {
    const chunk = file.slice(received, received + upload.chunk_size);
    const url = `/api/uploads/${encodeURIComponent(upload.id)}?offset=${received}`;
    try {
      const start = received;
      received = await putChunk(url, chunk, (sent) => onProgress(start + sent, file.size));
      failures = 0;
    } catch (e) {
      if (!(e instanceof Error) || e.message !== "network" || ++failures > 5) throw e;
      await new Promise((r) => setTimeout(r, 1000 * failures));
      const state = await api.GET("/api/uploads/{upload_id}", { params: { path: { upload_id: upload.id } } });
      received = unwrap(state).received;
    }
  }
  onProgress(file.size, file.size);
  return unwrap(await api.POST("/api/uploads/{upload_id}/complete", {
    params: { path: { upload_id: upload.id } }, body: {},  // the server names it neutrally: file names often carry the patient's name
  }));
}

/** Attach the user's own label map to ``study`` (``PUT .../segmentation``); throws the server's
 * reason when it is refused. */
async function attachSegmentation(study: Study, file: File): Promise<void> {
  const form = new FormData();
  form.append("file", file, file.name);
  const answer = await fetch(`/api/studies/${encodeURIComponent(study.id)}/segmentation`,
    { method: "PUT", body: form, credentials: "same-origin" });
  if (!answer.ok) throw new Error(describe(answer.status, await answer.json().catch(() => undefined)));
}

function sendFiles(files: File[], onProgress: (sent: number, total: number) => void): Promise<Study> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", UPLOAD_PATH);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
    xhr.onerror = () => reject(new Error("The upload was interrupted (network)."));
    xhr.onload = () => {
      const study: unknown = xhr.response;
      if (xhr.status === 201 && isStudy(study)) resolve(study);
      else reject(new Error(describe(xhr.status, xhr.response)));
    };
    xhr.send(form);
  });
}

async function filesFromDrop(items: DataTransferItemList): Promise<File[]> {
  const entries = [...items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => !!e);
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      out.push(await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out.filter((f) => !f.name.startsWith("."));
}

export function uploadPanel(isAdmin = false): HTMLElement {
  const fileInput = h("input", { type: "file", class: "sr-only", id: "file-input", "data-testid": "file-input" });
  // A choice made before the server has answered waits for it; without an answer, the server
  // still checks every upload itself.
  const limits: Promise<Limits | null> = api.GET("/api/limits").then(unwrap).catch(() => null);
  void limits.then((known) => { fileInput.accept = acceptOf(known); });
  const folderInput = h("input", { type: "file", class: "sr-only", id: "folder-input", multiple: true });
  folderInput.setAttribute("webkitdirectory", "");
  const quality = h("select", { id: "quality", "aria-label": "Quality" },
    ...Object.entries(QUALITY_LABELS).map(([value, label]) => label && h("option", { value }, label)));
  const engine = h("select", { id: "engine", "aria-label": "Engine" },
    h("option", { value: "auto" }, "Automatic"),
    h("option", { value: "tissue" }, "Built-in tissue engine"));
  const forecast = h("p", { class: "notice engine-forecast", "data-testid": "engine-forecast", role: "status" });
  const adminNote = h("p", { class: "notice", "data-testid": "admin-models", hidden: true },
    "Administrators: TotalSegmentator is not installed on this server, so studies get the built-in "
    + "tissue engine. Install its models on the machines that run jobs with “iris models install” "
    + "(see the deployment guide, “Segmentation models”).");
  let engines: EngineInfo[] = [];
  const explain = (): void => { forecast.textContent = engines.length ? engineForecast(engines, engine.value, quality.value) : ""; };
  void api.GET("/api/engines").then((r) => {
    engines = unwrap(r).items;
    const chosen = engine.value;
    engine.replaceChildren(...offeredEngines(engines).map((e) => h("option", { value: e.name }, e.label)));
    engine.value = [...engine.options].some((o) => o.value === chosen) ? chosen : "auto";
    adminNote.hidden = !isAdmin || engines.some((e) => e.name === "totalsegmentator" && e.available);
    explain();
  }).catch(() => undefined);
  // Bring your own segmentation: a label map made elsewhere (3D Slicer, TotalSegmentator...) is
  // meshed and measured instead of segmenting; the engine choice then does not apply.
  const segInput = h("input", { type: "file", id: "segmentation-input", accept: ".nii,.nii.gz",
    "aria-describedby": "segmentation-help" });
  const segHelp = h("span", { id: "segmentation-help", class: "muted small" },
    "Optional: your own label map (NIfTI) on this CT; Iris builds the 3D model from it.");
  let waiting: Study | null = null; // uploaded, its segmentation refused: another one may follow
  const ownSegmentation = (): File | null => segInput.files?.[0] ?? null;
  const explainChoice = (): void => {
    const own = ownSegmentation();
    engine.disabled = own !== null;
    if (own) forecast.textContent = `Your segmentation "${own.name}" will be used: no engine runs.`;
    else explain();
  };
  segInput.addEventListener("change", () => {
    explainChoice();
    const study = waiting;
    if (study && ownSegmentation()) { waiting = null; void startJob(study, null); }
  });
  engine.addEventListener("change", explain);
  quality.addEventListener("change", explain);
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Upload progress" });
  const status = h("p", { class: "upload-status", role: "status", "aria-live": "polite" },
    "NIfTI (.nii/.nii.gz), NRRD, MHA, a DICOM zip, or a DICOM folder.");
  const seriesBox = h("div", { class: "series-choice" });
  const zone = h("div", { class: "dropzone", tabindex: 0, role: "button",
    "aria-label": "Drop a CT study here or press Enter to choose a file" },
    h("strong", {}, "Drop a CT study here"),
    h("span", { class: "muted" }, " or "),
    h("label", { for: "file-input", class: "link" }, "choose a file"),
    h("span", { class: "muted" }, " / "),
    h("label", { for: "folder-input", class: "link" }, "a DICOM folder"),
    fileInput, folderInput);
  let busy = false;

  const startJob = async (study: Study, seriesUid: string | null): Promise<void> => {
    const own = ownSegmentation();
    if (own) {
      try {
        await attachSegmentation(study, own);
      } catch (e) {
        waiting = study;
        status.textContent = `Your segmentation "${own.name}" was not accepted: ${e instanceof Error ? e.message : String(e)} `
          + `The CT is kept as "${study.name}": choose another segmentation file to process it.`;
        status.classList.add("error");
        segInput.value = "";
        return;
      }
    }
    const body = { study_id: study.id, quality: qualityOf(quality.value),
      engine: own ? "import" as const : engineOf(engine.value), series_uid: seriesUid };
    unwrap(await api.POST("/api/jobs", { body }));
    status.classList.remove("error");
    status.textContent = `"${study.name}" uploaded; processing has started${own ? ` with your segmentation "${own.name}"` : ""}.`;
    segInput.value = "";
    explainChoice();
  };

  const chooseSeries = (study: Study): void => {
    const select = h("select", { "aria-label": "Series" }, ...study.series.map((s) =>
      h("option", { value: s.uid },
        `${s.description || "(no description)"} · ${s.modality} · ${s.slice_count} slices · ${s.orientation}`)));
    const go = h("button", { class: "primary", type: "button" }, "Process this series");
    go.addEventListener("click", () => {
      seriesBox.replaceChildren();
      startJob(study, select.value).catch((e: unknown) => toast(String(e), "error"));
    });
    seriesBox.replaceChildren(h("p", {}, "This folder holds several series; choose one:"), select, go);
  };

  const upload = async (files: File[]): Promise<void> => {
    const refusal = checkSelection(files, await limits);
    if (refusal) {
      status.textContent = refusal;
      status.classList.add("error");
      fileInput.value = ""; // choosing the same file again (fixed) must be seen as a choice
      folderInput.value = "";
      return;
    }
    if (busy) return;
    busy = true;
    waiting = null; // a new CT: a refused segmentation's study is not what comes next
    status.classList.remove("error");
    zone.classList.add("busy");
    const started = performance.now();
    try {
      // One file (NIfTI, zip...) goes resumable; the many files of a DICOM folder in one request.
      const send = files.length === 1 ? (p: typeof progress) => sendResumable(files[0]!, p)
        : (p: typeof progress) => sendFiles(files, p);
      const progress = (sent: number, size: number): void => {
        bar.max = size || 1;
        bar.value = sent;
        const speed = sent / Math.max(0.001, (performance.now() - started) / 1000);
        status.textContent = sent >= size
          ? "Checking the study…"
          : `Uploading ${formatBytes(sent)} of ${formatBytes(size)} · ${formatBytes(speed)}/s`;
      };
      const study = await send(progress);
      bar.value = bar.max;
      if (study.series.length > 1) chooseSeries(study);
      else await startJob(study, null);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      status.textContent = files.length === 1 ? nameRefusal(message, files[0]!.name) : `Not accepted: ${message}`;
      status.classList.add("error");
      bar.value = 0;
    } finally {
      busy = false;
      zone.classList.remove("busy");
      fileInput.value = "";
      folderInput.value = "";
    }
  };

  fileInput.addEventListener("change", () => void upload([...(fileInput.files ?? [])]));
  folderInput.addEventListener("change", () => void upload([...(folderInput.files ?? [])]));
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fileInput.click(); }
  });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer) void filesFromDrop(e.dataTransfer.items).then(upload);
  });
  return h("section", { class: "panel upload", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "New study"),
    zone,
    h("div", { class: "row" }, h("label", {}, "Quality ", quality), h("label", {}, "Engine ", engine)),
    h("div", { class: "own-segmentation" }, h("label", { for: "segmentation-input" }, "Segmentation "), segInput, segHelp),
    forecast, adminNote,
    bar, status, seriesBox);
}
