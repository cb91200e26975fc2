import { describe, expect, it } from "vitest";
import { canResend, receiptSummary } from "../src/pages/receiving";

const base = {
  id: "r1", instances: 24, bytes: 1000, study_id: null, job_id: null, destination: null,
  created_at: "2026-12-04T10:00:00Z", updated_at: "2026-12-04T10:00:00Z",
};

describe("receipts", () => {
  it("say what became of the study, and why when nothing did", () => {
    expect(receiptSummary({ ...base, state: "queued", reason: "" })).toBe("Processing (24 instances)");
    expect(receiptSummary({ ...base, instances: 1, state: "refused", reason: "no CT series in this study (found MR)" }))
      .toBe("Refused (1 instance): no CT series in this study (found MR)");
  });

  it("offer sending again only when the results' sending failed", () => {
    const failed = { ...base, state: "failed" as const, destination: "s1" };
    expect(canResend({ ...failed, reason: "the results could not be sent: down" })).toBe(true);
    expect(canResend({ ...failed, reason: "the job was cancelled" })).toBe(false);
    expect(canResend({ ...failed, destination: null, reason: "the results could not be sent" })).toBe(false);
  });
});
