// @vitest-environment jsdom
// The studies page and the upload picker against a fake network: events decoded and applied to
// the cards in place, and the picker's file types taken from the server.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Study } from "../src/api/client";
import { FakeEventSource, FakeServer, job, study, until } from "./support/fakes";

const user = { id: "u1", email: "a@example.org", is_admin: false, disabled: false, created_at: "2026-01-01T00:00:00Z" };
const limits = { upload_suffixes: [".nii.gz", ".nii", ".zip"], detached_header_suffixes: [".mhd"], max_upload_bytes: 1000 };
const first = study({ id: "s1", name: "Chest", latest_job: job({ study_id: "s1" }) });
const server = new FakeServer({
  "GET /api/auth/me": user,
  "GET /api/engines": { items: [] },
  "GET /api/limits": limits,
  "GET /api/studies": { items: [first] },
  "GET /api/comparisons": { items: [] },
  "PATCH /api/studies/s1": async (request: Request) => ({ ...first, name: await nameIn(request) }),
});

async function nameIn(request: Request): Promise<string> {
  const body: unknown = await request.json();
  return typeof body === "object" && body !== null && "name" in body && typeof body.name === "string" ? body.name : "";
}

// The API client keeps the fetch it finds when it is made: the fakes go in before it is.
let pages: typeof import("../src/pages/studies");
let upload: typeof import("../src/pages/upload");
let rename: typeof import("../src/pages/rename");
beforeAll(async () => {
  vi.stubGlobal("fetch", server.fetch);
  vi.stubGlobal("EventSource", FakeEventSource);
  pages = await import("../src/pages/studies");
  upload = await import("../src/pages/upload");
  rename = await import("../src/pages/rename");
});
afterEach(() => document.body.replaceChildren());

const card = (id: string): HTMLElement | null => document.querySelector<HTMLElement>(`[data-study="${id}"]`);
const statusOf = (id: string): string | null | undefined => card(id)?.querySelector(".job-status")?.textContent;

async function openStudiesPage(): Promise<FakeEventSource> {
  const root = document.createElement("div");
  document.body.append(root);
  await pages.studiesPage(() => undefined)(root);
  const events = FakeEventSource.last;
  if (!events) throw new Error("the page opened no event stream");
  expect(events.url).toBe("/api/events");
  return events;
}

describe("studies page", () => {
  it("applies each event to its card in place, keeping focus", async () => {
    const events = await openStudiesPage();
    expect(statusOf("s1")).toBe("Segmenting 40%");
    const shown = card("s1");
    const del = document.querySelector<HTMLButtonElement>('[aria-label="Delete Chest"]');
    del?.focus();
    events.send("study", { ...first, latest_job: job({ study_id: "s1", stage: "export", percent: 90 }) });
    expect(statusOf("s1")).toBe("Exporting 90%");
    expect(card("s1")).toBe(shown);
    expect(document.activeElement).toBe(del);

    const second: Study = study({ id: "s2", name: "Knee", created_at: "2026-02-01T00:00:00Z" });
    events.send("study", second);
    expect(document.querySelector(".study")).toBe(card("s2")); // newest first
    expect(card("s1")).toBe(shown);
    events.send("study_deleted", { id: "s2" });
    expect(card("s2")).toBeNull();
    expect(document.activeElement).toBe(del);
  });

  it("ignores an event whose payload is not what the schema says", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const events = await openStudiesPage();
    events.send("study", { id: "s1", name: 5 });
    events.send("study_deleted", { gone: "s1" });
    expect(statusOf("s1")).toBe("Segmenting 40%");
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });

  it("reads the list afresh when the stream (re)connects", async () => {
    const events = await openStudiesPage();
    const before = server.requests.filter((r) => r === "GET /api/studies").length;
    events.send("ready", {});
    await until(() => server.requests.filter((r) => r === "GET /api/studies").length > before);
  });

  it("closes its stream when left", async () => {
    const root = document.createElement("div");
    const leave = await pages.studiesPage(() => undefined)(root);
    leave();
    expect(FakeEventSource.last?.closed).toBe(true);
  });
});

describe("upload picker", () => {
  const file = (name: string, size = 10): File => new File(["x".repeat(size)], name);

  it("offers the file types the server takes, once it has said which", async () => {
    document.body.append(upload.uploadPanel());
    const input = document.querySelector<HTMLInputElement>("[data-testid=file-input]");
    await until(() => !!input?.accept);
    expect(input?.accept).toBe(".nii.gz,.nii,.zip");
    const quality = document.querySelector<HTMLSelectElement>("#quality");
    expect([...quality?.options ?? []].map((o) => o.value)).toEqual(["fast", "normal", "high"]);
    expect(quality?.value).toBe("fast");
  });

  it("refuses what the server would refuse, in words", () => {
    expect(upload.checkSelection([file("ct.nii.gz")], limits)).toBeNull();
    expect(upload.checkSelection([file("IM0001")], limits)).toBeNull(); // a DICOM file, unnamed
    expect(upload.checkSelection([file("ct.mhd")], limits)).toMatch(/second file: put both in a zip/);
    expect(upload.checkSelection([file("ct.nrrd")], limits)).toMatch(/not one of the file types.*\.nii\.gz, \.nii, \.zip/);
    expect(upload.checkSelection([file("big.zip", 1001)], limits)).toMatch(/up to 1.0 kB/);
    expect(upload.checkSelection([file("a.dcm"), file("b.dcm")], limits)).toBeNull();
    expect(upload.acceptOf(null)).toBe("");
  });
});

describe("rename form", () => {
  const setup = () => {
    const saved = vi.fn();
    const closed = vi.fn();
    const form = rename.renameForm(first, saved, closed);
    document.body.append(form);
    const input = form.querySelector("input");
    const error = form.querySelector("[role=alert]");
    const save = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (!input || !error || !save) throw new Error("the form lacks its input, error line or Save");
    return { save, input, error, saved, closed };
  };

  it("says what is wrong with a name without sending it", () => {
    const { save, input, error, saved } = setup();
    const sent = server.requests.length;
    input.value = "   ";
    save.click();
    expect(error.textContent).toBe("Type a name for the study.");
    expect(server.requests.length).toBe(sent);
    expect(saved).not.toHaveBeenCalled();
  });

  it("saves the trimmed name and hands back the study as the server has it", async () => {
    const { save, input, saved } = setup();
    input.value = "  Chest, follow-up ";
    save.click();
    await until(() => saved.mock.calls.length > 0);
    expect(saved).toHaveBeenCalledWith({ ...first, name: "Chest, follow-up" });
  });

  it("closes on Escape, keeping the old name", () => {
    const { input, saved, closed } = setup();
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(closed).toHaveBeenCalledOnce();
    expect(saved).not.toHaveBeenCalled();
  });
});
