import { describe, expect, it } from "vitest";
import { sortStats, volumesByGroup, type StructureStats } from "../src/viewer/stats";

const row = (name: string, group: string, ml: number, hu: number): StructureStats => ({
  name, group, colour: "#ffffff", voxel_volume_ml: ml, mesh_volume_ml: ml, surface_area_mm2: 1,
  hu_mean: hu, hu_std: 5,
});
const rows = [row("liver", "digestive", 1500, 60), row("spleen", "digestive", 200, 50), row("lung_left", "respiratory", 2500, -850)];

describe("statistics", () => {
  it("sorts by number or name either way", () => {
    expect(sortStats(rows, "voxel_volume_ml", true).map((r) => r.name)).toEqual(["lung_left", "liver", "spleen"]);
    expect(sortStats(rows, "hu_mean", false).map((r) => r.name)).toEqual(["lung_left", "spleen", "liver"]);
    expect(sortStats(rows, "name", false).map((r) => r.name)).toEqual(["liver", "lung_left", "spleen"]);
  });

  it("sums volumes by body system, largest first", () => {
    expect(volumesByGroup(rows)).toEqual([{ group: "respiratory", ml: 2500 }, { group: "digestive", ml: 1700 }]);
  });
});
