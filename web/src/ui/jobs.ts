// What a person reads about a job, for studies and comparisons alike.
import type { Job } from "../api/client";
import { formatDuration } from "./dom";

export const STAGE_LABEL: Record<string, string> = {
  queued: "Queued", ingest: "Reading", segment: "Segmenting", mesh: "Building surfaces",
  export: "Exporting", stats: "Measuring", register: "Aligning", compare: "Comparing", done: "Ready",
  failed: "Failed", cancelled: "Cancelled",
};

export function jobSummary(job: Job | null | undefined): string {
  if (!job) return "Not processed";
  if (job.state === "queued") {
    const pos = job.queue_position ? `${job.queue_position} ahead` : "next";
    return `Queued · ${pos}${job.eta_seconds ? ` · about ${formatDuration(job.eta_seconds)}` : ""}`;
  }
  if (job.state === "running") {
    const eta = job.eta_seconds ? ` · ${formatDuration(job.eta_seconds)} left` : "";
    return `${STAGE_LABEL[job.stage] ?? job.stage} ${Math.round(job.percent)}%${eta}`;
  }
  if (job.state === "failed") return `Failed: ${job.error ?? job.message}`;
  if (job.state === "done") {
    const took = job.duration_s ? ` in ${formatDuration(job.duration_s)}` : "";
    return `Ready${took}`; // a study's engine and quality are on their own line
  }
  return STAGE_LABEL[job.state] ?? job.state;
}

const ENGINE_NAME: Record<string, string> = {
  totalsegmentator: "TotalSegmentator", tissue: "Tissue engine", import: "Your segmentation",
  auto: "Engine chosen when it runs",
};

/** Which engine made (or will make) a study's model, and at which quality: what tells two
 * studies of the same scan apart. Empty for comparisons and unprocessed studies. */
export function engineAndQuality(job: Job | null | undefined): string {
  if (!job || job.kind === "comparison") return "";
  const engine = job.engine_used ?? job.engine ?? "auto";
  return `${ENGINE_NAME[engine] ?? engine} · ${job.quality ?? "fast"} quality`;
}
