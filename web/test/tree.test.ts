import { describe, expect, it } from "vitest";
import * as T from "../src/viewer/tree";

const S: T.StructureInfo[] = [
  { name: "liver", group: "digestive", colour: "#dd8844" },
  { name: "spleen", group: "digestive", colour: "#aa3333" },
  { name: "lung_left", group: "respiratory", colour: "#88ccff" },
  { name: "rib_left_1", group: "skeleton", colour: "#eeeedd" },
  { name: "body", group: "other", colour: "#aa8877" },
];

describe("structure tree", () => {
  it("groups by body system in reading order, members sorted", () => {
    const groups = T.groupTree(S);
    expect(groups.map((g) => g.group)).toEqual(["skeleton", "respiratory", "digestive", "other"]);
    expect(groups[2]!.members.map((m) => m.name)).toEqual(["liver", "spleen"]);
    expect(groups[0]!.label).toBe("Skeleton");
  });

  it("searches names and groups case-insensitively", () => {
    expect(T.groupTree(S, "LIV").flatMap((g) => g.members.map((m) => m.name))).toEqual(["liver"]);
    expect(T.groupTree(S, "rib left").flatMap((g) => g.members.map((m) => m.name))).toEqual(["rib_left_1"]);
    expect(T.groupTree(S, "digest").length).toBe(1);
    expect(T.groupTree(S, "nothing")).toEqual([]);
  });

  it("shows, hides, and solos", () => {
    let s = T.initialState(S);
    expect(T.isShown(s, "liver")).toBe(true);
    s = T.setVisible(s, "liver", false);
    expect(T.isShown(s, "liver")).toBe(false);
    expect(T.hiddenNames(s)).toEqual(["liver"]);
    s = T.toggleSolo(s, "spleen");
    expect(T.isShown(s, "spleen")).toBe(true);
    expect(T.isShown(s, "lung_left")).toBe(false);
    s = T.toggleSolo(s, "spleen");
    expect(T.isShown(s, "lung_left")).toBe(true);
    s = T.showAll(s);
    expect(T.hiddenNames(s)).toEqual([]);
  });

  it("toggles a whole group and ends any solo", () => {
    let s = T.toggleSolo(T.initialState(S), "liver");
    s = T.setGroupVisible(s, "digestive", false);
    expect(s.solo).toBeNull();
    expect(T.groupVisible(s, "digestive")).toBe(false);
    expect(T.isShown(s, "lung_left")).toBe(true);
  });

  it("sets colour and clamps opacity; refuses a bad colour; starts shells see-through", () => {
    let s = T.initialState(S);
    expect(s.styles.body!.opacity).toBeLessThan(1);
    s = T.setColour(s, ["liver"], "#112233");
    expect(s.styles.liver!.colour).toBe("#112233");
    expect(T.setColour(s, ["liver"], "red").styles.liver!.colour).toBe("#112233");
    s = T.setOpacity(s, ["liver", "spleen"], 3);
    expect(s.styles.spleen!.opacity).toBe(1);
    expect(T.setOpacity(s, ["liver"], -1).styles.liver!.opacity).toBe(0);
  });

  it("selects only known structures", () => {
    const s = T.initialState(S);
    expect(T.select(s, "liver").selected).toBe("liver");
    expect(T.select(s, "heart").selected).toBeNull();
    expect(T.structureLabel("rib_left_1")).toBe("Rib left 1");
  });
});

describe("the first view", () => {
  const tissue = ["body", "torso_fat", "subcutaneous_fat", "skeletal_muscle", "skeleton", "lung_left"]
    .map((name) => ({ name, group: "other", colour: "#ffffff" }));

  it("hides fat, fades the other context and keeps findings opaque", () => {
    const s = T.initialState(tissue);
    expect(s.styles.torso_fat).toMatchObject({ visible: false });
    expect(s.styles.subcutaneous_fat).toMatchObject({ visible: false });
    expect(s.styles.body!.opacity).toBeLessThan(0.3);
    expect(s.styles.skeletal_muscle!.opacity).toBeLessThan(0.3);
    expect(s.styles.skeleton).toEqual({ visible: true, colour: "#ffffff", opacity: 1 });
    expect(T.defaultHidden(tissue)).toEqual(["subcutaneous_fat", "torso_fat"]);
  });

  it("frames the findings, or everything when there is nothing else", () => {
    expect(T.framedNames(tissue)).toEqual(["skeleton", "lung_left"]);
    expect(T.framedNames(tissue.slice(0, 2))).toEqual(["body", "torso_fat"]);
  });
});
