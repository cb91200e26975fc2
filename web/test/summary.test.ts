import { describe, expect, it } from "vitest";
import type { Job, Study } from "../src/api/client";
import { studyChoiceLabel } from "../src/pages/comparelist";
import { checkStudyName } from "../src/pages/rename";
import { engineAndQuality } from "../src/ui/jobs";
import { jobSummary } from "../src/pages/studies";
import { engineNotice } from "../src/pages/viewer";

const job = (fields: Partial<Job>): Job => ({
  id: "j", kind: "study", study_id: "s", state: "queued", stage: "queued", percent: 0, message: "",
  queue_position: null, eta_seconds: null, quality: "fast", engine: "auto", engine_used: null,
  engine_reason: null, error: null, cancel_requested: false, attempts: 0, max_attempts: 3,
  series_uid: null, created_at: "", updated_at: "", started_at: null, finished_at: null,
  duration_s: null, timings_s: {}, artifacts: [], ...fields,
});

describe("what a user reads about a job", () => {
  it("says where it is in the queue, how far it got and how long is left", () => {
    expect(jobSummary(null)).toBe("Not processed");
    expect(jobSummary(job({ queue_position: 2, eta_seconds: 90 }))).toBe("Queued · 2 ahead · about 1 min 30 s");
    expect(jobSummary(job({ queue_position: 0 }))).toBe("Queued · next");
    expect(jobSummary(job({ state: "running", stage: "segment", percent: 41.6, eta_seconds: 12 })))
      .toBe("Segmenting 42% · 12 s left");
    expect(jobSummary(job({ state: "failed", error: "out of memory" }))).toBe("Failed: out of memory");
    expect(jobSummary(job({ state: "done", engine_used: "tissue", duration_s: 4 })))
      .toBe("Ready in 4 s");
  });

  it("says which engine at which quality made a study, to tell studies of one scan apart", () => {
    expect(engineAndQuality(null)).toBe("");
    expect(engineAndQuality(job({ kind: "comparison", quality: null, engine: null }))).toBe("");
    expect(engineAndQuality(job({ engine: "auto" }))).toBe("Engine chosen when it runs · fast quality");
    expect(engineAndQuality(job({ engine: "auto", engine_used: "tissue", quality: "normal" })))
      .toBe("Tissue engine · normal quality");
    expect(engineAndQuality(job({ engine: "import", engine_used: "import" }))).toBe("Your segmentation · fast quality");
    const study = { name: "Chest", created_at: "2026-01-02", latest_job: job({ engine_used: "totalsegmentator" }) };
    expect(studyChoiceLabel(study as Study, (iso) => iso)).toBe("Chest — 2026-01-02 · TotalSegmentator · fast quality");
    expect(studyChoiceLabel({ ...study, name: "", latest_job: null } as Study, (iso) => iso))
      .toBe("Untitled study — 2026-01-02");
  });

  it("names a study in plain words before it is sent", () => {
    expect(checkStudyName("  ")).toBe("Type a name for the study.");
    expect(checkStudyName("x".repeat(201))).toMatch(/200 characters or fewer \(this one has 201\)/);
    expect(checkStudyName(" Liver follow-up ")).toBeNull();
  });

  it("names the engine and why it was chosen", () => {
    expect(engineNotice(job({ engine_used: "tissue", engine_reason: "TotalSegmentator weights not installed" })))
      .toBe("Segmented by the built-in tissue engine: TotalSegmentator weights not installed");
    expect(engineNotice(job({ engine_used: "totalsegmentator" }))).toBe("Segmented by TotalSegmentator.");
  });
});
