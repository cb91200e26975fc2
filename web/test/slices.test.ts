import { describe, expect, it } from "vitest";
import { WINDOW_PRESETS, labelColormap, nameOfLabel, parseLabelTable, windowRange } from "../src/viewer/slices";

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
