// The typed API client, generated from the service's OpenAPI schema (src/api/schema.json).
import createClient from "openapi-fetch";
import { isIssue, plainIssues } from "./plain";
import type { components, paths } from "./schema";

export type Study = components["schemas"]["StudyPublic"];
export type Job = components["schemas"]["JobPublic"];
export type User = components["schemas"]["UserPublic"];
export type Artifact = components["schemas"]["ArtifactPublic"];
export type Comparison = components["schemas"]["ComparisonPublic"];

// Same origin: the session cookie (HttpOnly, SameSite=Strict) goes with every request.
export const api = createClient<paths>({
  baseUrl: typeof location === "undefined" ? "" : location.origin, credentials: "same-origin",
});

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The message a person should read from an error body (FastAPI's ``detail``). */
export function describe(status: number, body: unknown): string {
  const detail: unknown = typeof body === "object" && body !== null && "detail" in body ? body.detail : undefined;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length && detail.every(isIssue)) return plainIssues(detail);
  return status === 0 ? "The server cannot be reached." : `Request failed (${status}).`;
}

export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined || !result.response.ok) {
    throw new ApiError(result.response.status, describe(result.response.status, result.error));
  }
  return result.data;
}

export function artifact(job: Job | null | undefined, name: Artifact["name"]): Artifact | undefined {
  return job?.artifacts.find((a) => a.name === name);
}
