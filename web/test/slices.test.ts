import { describe, expect, it } from "vitest";
import {
  WINDOW_PRESETS, describeVoxel, labelColormap, nameOfLabel, parseLabelTable, patientPosition, sliceNumbers, windowOf,
  windowRange,
} from "../src/viewer/slices";

const table = [{ id: 5, name: "liver", colour: "#ff0000" }, { id: 1, name: "spleen", colour: "#00ff80" }];

describe("window presets", () => {
  it("map width/level to the HU range", () => {
    expect(windowRange(WINDOW_PRESETS.soft)).toEqual([-160, 240]);
    expect(windowRange(WINDOW_PRESETS.lung)).toEqual([-1350, 150]);
    expect(windowRange(WINDOW_PRESETS.bone)).toEqual([-500, 1300]);
  });
});

describe("labelColormap", () => {
  it("is dense up to the largest id with transparent background and gaps", () => {
    const m = labelColormap(table);
    expect(m.I).toEqual([0, 1, 2, 3, 4, 5]);
    expect(m.A).toEqual([0, 255, 0, 0, 0, 255]);
    expect([m.R[5], m.G[5], m.B[5]]).toEqual([255, 0, 0]);
    expect([m.R[1], m.G[1], m.B[1]]).toEqual([0, 255, 128]);
    expect(m.labels[5]).toBe("liver");
  });
  it("uses the 3D view's current colour when given", () => {
    const m = labelColormap(table, (n) => (n === "liver" ? "#0000ff" : undefined));
    expect([m.R[5], m.G[5], m.B[5]]).toEqual([0, 0, 255]);
    expect([m.R[1], m.G[1], m.B[1]]).toEqual([0, 255, 128]);
  });
});

describe("label lookups", () => {
  it("names a label id, null for background or unknown", () => {
    expect(nameOfLabel(table, 5)).toBe("liver");
    expect(nameOfLabel(table, 0)).toBeNull();
    expect(nameOfLabel(table, 3)).toBeNull();
  });
  it("parses the sidecar and skips malformed rows", () => {
    expect(parseLabelTable({ labels: [{ id: 2, name: "a", group: "g", colour: "#010203" }, { id: "x" }] }))
      .toEqual([{ id: 2, name: "a", colour: "#010203" }]);
    expect(parseLabelTable(null)).toEqual([]);
  });
});

describe("what the slice views say", () => {
  it("reads a HU range as window and level", () => {
    expect(windowOf(-160, 240)).toEqual({ width: 400, level: 40 });
    expect(windowOf(-1350.4, 149.6)).toEqual({ width: 1500, level: -600 });
  });
  it("names RAS+ millimetres by the patient's sides", () => {
    expect(patientPosition([12.34, -4.5, 100])).toBe("R 12.3 · P 4.5 · S 100.0 mm");
    expect(patientPosition([-7, 3, -0.04])).toBe("L 7.0 · A 3.0 · I 0.0 mm");
  });
  it("numbers slices from 1 in each plane", () => {
    expect(sliceNumbers([0, 29, 47], [64, 56, 48])).toBe("axial 48/48 · coronal 30/56 · sagittal 1/64");
  });
  it("puts position, slices, HU and the structure on one line", () => {
    const line = describeVoxel({ mm: [1, 2, 3], vox: [1, 2, 3], hu: 52.6 }, [10, 10, 10], "kidney_left");
    expect(line).toBe("R 1.0 · A 2.0 · S 3.0 mm · axial 4/10 · coronal 3/10 · sagittal 2/10 · 53 HU · kidney left");
  });
});
