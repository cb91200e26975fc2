import { BufferAttribute, BufferGeometry, Mesh, MeshStandardMaterial, Object3D } from "three";
import { describe, expect, it } from "vitest";
import { colourDistances } from "../src/viewer/colormap";
import { paintChange, signedDistances } from "../src/viewer/changescene";
import type { LoadedModel } from "../src/viewer/model";

function model(distances: number[], edge?: number[]): LoadedModel {
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new BufferAttribute(new Float32Array(distances.length * 3), 3));
  geometry.setAttribute("_signed_distance", new BufferAttribute(Float32Array.from(distances), 1));
  if (edge) geometry.setAttribute("_scan_edge", new BufferAttribute(Float32Array.from(edge), 1));
  const mesh = new Mesh(geometry, new MeshStandardMaterial());
  return { root: new Object3D(), meshes: new Map([["lung_left", [mesh]]]), structures: [] };
}

describe("distances read from comparison.glb", () => {
  it("are the vertices' signed distances", () => {
    expect([...signedDistances(model([1.5, -2, 0])).get("lung_left")![0]!]).toEqual([1.5, -2, 0]);
  });

  it("count as no data where a scan cut the structure", () => {
    const read = signedDistances(model([1.5, -20, 30], [0, 1, 1])).get("lung_left")![0]!;
    expect(read[0]).toBe(1.5);
    expect(Number.isNaN(read[1]!) && Number.isNaN(read[2]!)).toBe(true);
    const painted = model([1.5, -20], [0, 1]);
    paintChange(painted, 5, () => "both");
    const colours = painted.meshes.get("lung_left")![0]!.geometry.getAttribute("color");
    const grey = colourDistances([NaN], 5, "both", true);
    expect([colours.getX(1), colours.getY(1), colours.getZ(1)]).toEqual([...grey]);
  });
});
