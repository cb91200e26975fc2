import { describe, expect, it } from "vitest";
import { comparisonsOf, shownComparisons } from "../src/pages/comparelist";
import { comparison, job, study } from "./support/fakes";

const a = study({ id: "a", name: "Before" });
const b = study({ id: "b", name: "After" });
const c = study({ id: "c", name: "Other" });
const made = (id: string, follow: typeof b, day: number, state: "failed" | "done" | "cancelled") =>
  comparison(a, follow, { id, created_at: `2026-01-0${day}T10:00:00Z`,
    job: job({ id, kind: "comparison", state, stage: state }) });

describe("the comparisons a card lists", () => {
  it("keeps a failure only while it is the newest of its pair", () => {
    const all = [made("old-fail", b, 1, "failed"), made("retried", b, 2, "done"),
      made("cancelled", c, 3, "cancelled"), made("older-cancel", c, 2, "failed")];
    expect(shownComparisons(all, "a").map((x) => x.id)).toEqual(["cancelled", "retried"]);
    expect(shownComparisons(all, "b").map((x) => x.id)).toEqual(["retried"]);
    // Deleting a study still finds every comparison it is in.
    expect(comparisonsOf(all, "c").map((x) => x.id)).toEqual(["cancelled", "older-cancel"]);
  });
  it("lists every finished comparison of a pair", () => {
    const all = [made("first", b, 1, "done"), made("second", b, 2, "done")];
    expect(shownComparisons(all, "b").map((x) => x.id)).toEqual(["second", "first"]);
  });
});
