// Stand-ins for the browser's network for DOM tests of page logic: a fetch answering from a
// table of routes, and an EventSource the test drives. What they answer has the API's types.
import type { Comparison, Job, Study } from "../../src/api/client";


/** Answers requests from ``routes`` ("GET /api/studies": body or handler); others are 404. */
export class FakeServer {
  readonly requests: string[] = [];
  constructor(readonly routes: Record<string, unknown>) {}

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const key = `${request.method} ${new URL(request.url).pathname}`;
    this.requests.push(key);
    if (!(key in this.routes)) return Response.json({ detail: "Not found." }, { status: 404 });
    const route = this.routes[key];
    const body: unknown = typeof route === "function" ? await route(request) : route;
    return Response.json(body, { status: request.method === "POST" && key.endsWith("/studies") ? 201 : 200 });
  };
}

/** An EventSource the test sends events through. */
export class FakeEventSource extends EventTarget {
  static last: FakeEventSource | null = null;
  closed = false;
  constructor(readonly url: string) {
    super();
    FakeEventSource.last = this;
  }
  close(): void { this.closed = true; }
  /** Delivers one event, its payload as the server writes it (JSON). */
  send(event: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(event, { data: JSON.stringify(data) }));
  }
}

export const later = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Waits (a few turns of the event loop at most) until ``ready`` holds. */
export async function until(ready: () => boolean, turns = 50): Promise<void> {
  for (let i = 0; i < turns && !ready(); i++) await later();
  if (!ready()) throw new Error("the condition never held");
}

export function job(fields: Partial<Job> = {}): Job {
  return {
    id: "job-1", kind: "study", study_id: "s1", state: "running", stage: "segment", percent: 40,
    message: "Segmenting", queue_position: null, eta_seconds: null, quality: "fast", engine: "tissue",
    engine_used: "tissue", engine_reason: null, error: null, cancel_requested: false, attempts: 1,
    max_attempts: 3, series_uid: null, created_at: "2026-01-01T10:00:00Z", updated_at: "2026-01-01T10:01:00Z",
    started_at: "2026-01-01T10:00:10Z", finished_at: null, duration_s: null, timings_s: {}, artifacts: [],
    ...fields,
  };
}

export function study(fields: Partial<Study> = {}): Study {
  return {
    id: "s1", name: "Chest", labels: [], source_format: "nifti", source_bytes: 1000, shape: [64, 56, 48],
    spacing_mm: [1, 1, 1], study_metadata: {}, series: [], has_segmentation: false,
    created_at: "2026-01-01T10:00:00Z", updated_at: "2026-01-01T10:00:00Z", latest_job: null,
    thumbnail_url: null, ...fields,
  };
}

export function comparison(base: Study, follow: Study, fields: Partial<Comparison> = {}): Comparison {
  const side = (s: Study) => ({ study_id: s.id, study_name: s.name, job_id: `job-${s.id}`, glb_url: "/m.glb" });
  return {
    id: "cmp-1", base: side(base), follow: side(follow), affine: false, created_at: "2026-01-02T10:00:00Z",
    job: job({ id: "cmp-1", kind: "comparison", study_id: base.id, engine: null, quality: null }), ...fields,
  };
}
