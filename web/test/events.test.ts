import { describe, expect, it, vi } from "vitest";
import { decodeJobEvent, decodeUserEvent, JOB_EVENT_NAMES, listen, USER_EVENT_NAMES } from "../src/api/events";
import { job, study } from "./support/fakes";

const raw = (v: unknown): string => JSON.stringify(v);

describe("event decoder", () => {
  it("names every event of each stream", () => {
    expect([...USER_EVENT_NAMES].sort()).toEqual(["job", "job_deleted", "ready", "study", "study_deleted"]);
    expect([...JOB_EVENT_NAMES].sort()).toEqual(["deleted", "job"]);
  });

  it("gives each event its payload, typed", () => {
    const s = study({ latest_job: job() });
    const decoded = decodeUserEvent("study", raw(s));
    expect(decoded).toEqual({ event: "study", data: s });
    if (decoded?.event !== "study") throw new Error("not a study event");
    expect(decoded.data.latest_job?.percent).toBe(40); // typed: no cast needed to read it
    expect(decodeUserEvent("job", raw(job()))).toEqual({ event: "job", data: job() });
    expect(decodeUserEvent("study_deleted", raw({ id: "s1" }))).toEqual({ event: "study_deleted", data: { id: "s1" } });
    expect(decodeUserEvent("job_deleted", raw({ id: "j" }))).toEqual({ event: "job_deleted", data: { id: "j" } });
    expect(decodeUserEvent("ready", "{}")).toEqual({ event: "ready", data: {} });
    expect(decodeJobEvent("deleted", raw({ id: "j" }))).toEqual({ event: "deleted", data: { id: "j" } });
  });

  it("refuses what is not one of the stream's events", () => {
    expect(decodeUserEvent("study", "{not json")).toBeNull();
    expect(decodeUserEvent("study", raw({ id: "s1" }))).toBeNull(); // no name, labels...
    expect(decodeUserEvent("study", raw({ ...study(), latest_job: { ...job(), percent: "40" } }))).toBeNull();
    expect(decodeUserEvent("job", raw([job()]))).toBeNull();
    expect(decodeUserEvent("study_deleted", raw({ id: 7 }))).toBeNull();
    expect(decodeUserEvent("deleted", raw({ id: "j" }))).toBeNull(); // a job stream's, not the list's
    expect(decodeJobEvent("study", raw(study()))).toBeNull();
    expect(decodeUserEvent("surprise", "{}")).toBeNull();
  });

  it("hands over decoded events and drops the others", () => {
    const source = new EventTarget();
    const seen: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    listen(source, USER_EVENT_NAMES, decodeUserEvent, (e) => seen.push(e.event));
    source.dispatchEvent(new MessageEvent("study_deleted", { data: raw({ id: "s1" }) }));
    source.dispatchEvent(new MessageEvent("study", { data: raw({ id: "s1" }) }));
    source.dispatchEvent(new MessageEvent("deleted", { data: raw({ id: "s1" }) })); // not listened to
    expect(seen).toEqual(["study_deleted"]);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });
});
