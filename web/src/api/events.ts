// The event streams' events, typed from the OpenAPI schema and checked as they arrive: the
// server names each event and sends its payload as JSON; what does not match is dropped.
import type { Job, Study } from "./client";
import type { components, paths } from "./schema";

type Sent<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { "text/event-stream": infer E } } } };
} ? E : never;

/** An event of the study list's stream (``GET /api/events``). */
export type UserEvent = Sent<"/api/events">;
/** An event of one job's stream (``GET /api/jobs/{job_id}/events``). */
export type JobStreamEvent = Sent<"/api/jobs/{job_id}/events">;
type AnyEvent = UserEvent | JobStreamEvent;
type Deleted = components["schemas"]["Deleted"];

// Every name, checked against the schema both ways by the compiler (a record of each).
const USER_EVENTS: Record<UserEvent["event"], null> = {
  ready: null, study: null, study_deleted: null, job: null, job_deleted: null,
};
const JOB_EVENTS: Record<JobStreamEvent["event"], null> = { job: null, deleted: null };
export const USER_EVENT_NAMES: readonly string[] = Object.keys(USER_EVENTS);
export const JOB_EVENT_NAMES: readonly string[] = Object.keys(JOB_EVENTS);

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (o: Fields, ...keys: string[]): boolean => keys.every((k) => typeof o[k] === "string");
const arrays = (o: Fields, ...keys: string[]): boolean => keys.every((k) => Array.isArray(o[k]));

/** Whether ``v`` has the shape of a JobPublic (the fields the app reads). */
export function isJob(v: unknown): v is Job {
  return isObject(v) && strings(v, "id", "kind", "study_id", "state", "stage", "message", "created_at")
    && typeof v.percent === "number" && typeof v.cancel_requested === "boolean"
    && arrays(v, "artifacts");
}

/** Whether ``v`` has the shape of a StudyPublic (the fields the app reads). */
export function isStudy(v: unknown): v is Study {
  return isObject(v) && strings(v, "id", "name", "source_format", "created_at")
    && arrays(v, "labels", "shape", "series") && (v.latest_job === null || isJob(v.latest_job));
}

const isDeleted = (v: unknown): v is Deleted => isObject(v) && strings(v, "id");

function decodeAny(name: string, raw: string): AnyEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  switch (name) {
    case "ready": return isObject(data) ? { event: "ready", data: {} } : null;
    case "study": return isStudy(data) ? { event: "study", data } : null;
    case "job": return isJob(data) ? { event: "job", data } : null;
    case "study_deleted": return isDeleted(data) ? { event: "study_deleted", data } : null;
    case "job_deleted": return isDeleted(data) ? { event: "job_deleted", data } : null;
    case "deleted": return isDeleted(data) ? { event: "deleted", data } : null;
    default: return null;
  }
}

/** The study list's event named ``name`` with data line ``raw``; null if it is not one. */
export function decodeUserEvent(name: string, raw: string): UserEvent | null {
  const event = decodeAny(name, raw);
  return event && event.event !== "deleted" ? event : null;
}

/** A job stream's event named ``name`` with data line ``raw``; null if it is not one. */
export function decodeJobEvent(name: string, raw: string): JobStreamEvent | null {
  const event = decodeAny(name, raw);
  return event && (event.event === "job" || event.event === "deleted") ? event : null;
}

/** Calls ``handle`` with each of ``source``'s events named in ``names`` that ``decode`` accepts. */
export function listen<E>(source: EventTarget, names: readonly string[],
  decode: (name: string, raw: string) => E | null, handle: (event: E) => void): void {
  for (const name of names) {
    source.addEventListener(name, (e) => {
      if (!(e instanceof MessageEvent) || typeof e.data !== "string") return;
      const event = decode(name, e.data);
      if (event) handle(event);
      else console.warn(`Ignored a "${name}" event that does not match the API's schema.`);
    });
  }
}
