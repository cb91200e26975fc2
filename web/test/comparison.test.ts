import { describe, expect, it } from "vitest";
import {
  alignmentVerdict, changeBars, decodeCompareView, DEFAULT_SORT, DEFAULT_VIEW, encodeCompareView,
  filterChanges, formatPercent, formatSigned, nextSort, parseReport, sortChanges, type StructureChange,
} from "../src/viewer/comparison";
import { defaultPair } from "../src/pages/comparelist";
import type { Study } from "../src/api/client";

// As the service writes comparison.json (src/iris3d/compare/writers.py).
const REPORT = {
  format_version: 1,
  registration: { transform: "rigid", rotation_deg: 3.2, translation_mm: [12, 0, -5],
    matrix_follow_to_base_ras: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] },
  alignment: { verdict: "good", message: "Alignment is good (median Dice 0.93).", median_dice: 0.93,
    weighted_dice: 0.95, median_centroid_residual_mm: 1.2 },
  structures: [
    { name: "liver", group: "digestive", colour: "#dd8855", status: "both", volume_base_ml: 1500,
      volume_follow_ml: 1800, change_ml: 300, change_percent: 20, hu_mean_base: 60, hu_mean_follow: 61,
      distance_mm: { mean: 2.5, p5: 0.1, p95: 5.2, max_abs: 7 }, dice: 0.88 },
    { name: "kidney_left", group: "urinary", colour: "#aa3333", status: "disappeared",
      volume_base_ml: 150, volume_follow_ml: 0, change_ml: -150, change_percent: -100,
      hu_mean_base: 30, hu_mean_follow: null, distance_mm: null, dice: null },
    { name: "spleen", group: "other", colour: "#884488", status: "both", volume_base_ml: 200,
      volume_follow_ml: 190, change_ml: -10, change_percent: -5, hu_mean_base: 50, hu_mean_follow: 50,
      distance_mm: { mean: -0.4, p5: -1, p95: 0.2, max_abs: 1.1 }, dice: 0.9 },
    { name: "lesion", group: "other", colour: "#ffffff", status: "appeared", volume_base_ml: 0,
      volume_follow_ml: 12, change_ml: 12, change_percent: null, hu_mean_base: null,
      hu_mean_follow: 40, distance_mm: null, dice: null },
  ],
};

const rows = (): StructureChange[] => parseReport(REPORT).structures;
const names = (list: StructureChange[]): string[] => list.map((r) => r.name);

describe("reading comparison.json", () => {
  it("keeps every structure with its volumes, change and status", () => {
    const report = parseReport(REPORT);
    expect(report.alignment).toMatchObject({ verdict: "good", median_dice: 0.93, median_residual_mm: 1.2,
      transform: "rigid", translation_mm: [12, 0, -5] });
    const [liver, kidney, , lesion] = report.structures;
    expect(liver).toMatchObject({ change_ml: 300, change_percent: 20, distance_mm: { mean: 2.5 } });
    // An absent side has no volume to show, and a new structure no percentage.
    expect(kidney).toMatchObject({ status: "disappeared", volume_follow_ml: null, change_percent: -100 });
    expect(lesion).toMatchObject({ status: "appeared", volume_base_ml: null, change_percent: null });
  });

  it("survives missing or malformed fields and counts an unknown verdict as poor", () => {
    const report = parseReport({ alignment: { verdict: "excellent" }, structures: [
      { name: "a", volume_base_ml: 10, volume_follow_ml: 12 }, { group: "no name" }, "junk",
      { name: "b", volume_base_ml: "ten", volume_follow_ml: 5, colour: "red" }] });
    expect(report.alignment.verdict).toBe("poor");
    expect(report.structures).toHaveLength(2);
    expect(report.structures[0]).toMatchObject({ status: "both", change_ml: 2, change_percent: 20, colour: null });
    expect(report.structures[1]).toMatchObject({ status: "appeared", change_percent: null });
    expect(parseReport(null)).toMatchObject({ structures: [], alignment: { verdict: "poor" } });
  });
});

describe("the table's order", () => {
  it("shows the largest change first, growth or shrinkage alike", () => {
    expect(names(sortChanges(rows(), DEFAULT_SORT))).toEqual(["liver", "kidney_left", "lesion", "spleen"]);
  });

  it("sorts by any column; rows without a value go last either way", () => {
    expect(names(sortChanges(rows(), { key: "name", descending: false })))
      .toEqual(["kidney_left", "lesion", "liver", "spleen"]);
    expect(names(sortChanges(rows(), { key: "change_percent", descending: true })))
      .toEqual(["liver", "spleen", "kidney_left", "lesion"]);
    expect(names(sortChanges(rows(), { key: "change_percent", descending: false })))
      .toEqual(["kidney_left", "spleen", "liver", "lesion"]);
    expect(names(sortChanges(rows(), { key: "volume_follow_ml", descending: false })))
      .toEqual(["lesion", "spleen", "liver", "kidney_left"]);
    expect(names(sortChanges(rows(), { key: "status", descending: false })).slice(0, 2))
      .toEqual(["lesion", "kidney_left"]);
  });

  it("turns a column round on a second click; a new column starts from the largest", () => {
    expect(nextSort(DEFAULT_SORT, "change_ml")).toEqual({ key: "change_ml", descending: true });
    expect(nextSort({ key: "change_ml", descending: true }, "change_ml")).toEqual({ key: "change_ml", descending: false });
    expect(nextSort(DEFAULT_SORT, "name")).toEqual({ key: "name", descending: false });
  });

  it("finds structures by their shown name, raw name or group", () => {
    expect(names(filterChanges(rows(), "Kidney l"))).toEqual(["kidney_left"]);
    expect(names(filterChanges(rows(), "kidney_"))).toEqual(["kidney_left"]);
    expect(names(filterChanges(rows(), "digest"))).toEqual(["liver"]);
    expect(filterChanges(rows(), "  ")).toHaveLength(4);
  });
});

describe("what is written", () => {
  it("signs changes and says new for what appeared", () => {
    expect(formatSigned(300, 1, " mL")).toBe("+300.0 mL");
    expect(formatSigned(-0.04, 1)).toBe("±0.0");
    expect(formatSigned(-2.25, 1)).toBe("−2.3");
    expect(formatSigned(null, 1)).toBe("–");
    const [liver, kidney, , lesion] = rows();
    expect([formatPercent(liver!), formatPercent(kidney!), formatPercent(lesion!)])
      .toEqual(["+20.0 %", "−100.0 %", "new"]);
  });

  it("warns about a poor alignment in its headline", () => {
    const poor = alignmentVerdict({ ...parseReport(REPORT).alignment, verdict: "poor", message: "Alignment is poor." });
    expect(poor.level).toBe("poor");
    expect(poor.title).toMatch(/^Poor alignment/);
    expect(poor.detail).toContain("Alignment is poor.");
    expect(poor.detail).toBe("Alignment is poor. Rigid registration · rotated 3.2° · moved 13 mm");
    expect(alignmentVerdict(parseReport(REPORT).alignment).title).toBe("Good alignment");
  });

  it("charts change % from the centre line, scaled to the largest, new ones to the end", () => {
    const bars = changeBars(rows());
    expect(bars.map((b) => [b.name, b.sign, b.extent])).toEqual([
      ["liver", 1, 0.2], ["kidney_left", -1, 1], ["spleen", -1, 0.05], ["lesion", 1, 1]]);
    expect(bars[3]!.text).toBe("new");
  });
});

describe("the comparison's view in the URL", () => {
  it("leaves defaults out and reads back what it wrote", () => {
    expect(encodeCompareView(DEFAULT_VIEW).toString()).toBe("");
    const view = { mode: "overlay" as const, selected: "liver", sort: { key: "name" as const, descending: false },
      search: "kid", range: 5, camera: { position: [1, 2, 3] as [number, number, number], target: [0, 0.5, 0] as [number, number, number] } };
    expect(decodeCompareView(encodeCompareView(view))).toEqual(view);
  });

  it("ignores what is malformed", () => {
    expect(decodeCompareView("mode=3d&sel=<script>&sort=bogus,desc&range=-2&cam=1,2")).toEqual(DEFAULT_VIEW);
  });
});

describe("choosing the pair", () => {
  const study = (id: string, created_at: string): Study => ({ id, created_at } as Study);
  it("takes the study uploaded first as the baseline, whichever was clicked", () => {
    const early = study("a", "2024-01-01T00:00:00Z");
    const late = study("b", "2024-06-01T00:00:00Z");
    expect(defaultPair(late, early).map((s) => s.id)).toEqual(["a", "b"]);
    expect(defaultPair(early, late).map((s) => s.id)).toEqual(["a", "b"]);
  });
});
