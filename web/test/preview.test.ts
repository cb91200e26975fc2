import { describe, expect, it } from "vitest";
import { Vector3 } from "three";
import { meshPlacements, modelBox } from "../src/viewer/preview";

// As export/glb.py writes it: a root node with a matrix (mm to metres, axes swapped) over
// structure nodes whose translation and scale undo the positions' 16-bit quantisation.
const json = {
  nodes: [
    { name: "patient", matrix: [0.001, 0, 0, 0, 0, 0.001, 0, 0, 0, 0, 0.001, 0, 0, 0, 0, 1], children: [1, 2] },
    { name: "liver", mesh: 0, translation: [10, 20, 30], scale: [0.5, 0.5, 0.5] },
    { name: "spleen", mesh: 1, translation: [-100, 0, 0], scale: [1, 1, 1] },
  ],
  meshes: [{ primitives: [{ attributes: { POSITION: 0 } }] }, { primitives: [{ attributes: { POSITION: 1 } }] }],
  accessors: [{ min: [0, 0, 0], max: [100, 100, 100] }, { min: [0, 0, 0], max: [10, 10, 10] }],
};

describe("where each mesh goes before the scene graph exists", () => {
  it("places a mesh by its node and its ancestors", () => {
    const placements = meshPlacements(json);
    const liver = placements.get(0)!;
    expect(liver.name).toBe("liver");
    expect(liver.trs).toBe(true);
    const corner = new Vector3(100, 100, 100).applyMatrix4(liver.matrix);
    expect(corner.toArray().map((v) => +v.toFixed(6))).toEqual([0.06, 0.07, 0.08]);
    const origin = new Vector3().applyMatrix4(liver.parent);
    expect(origin.toArray()).toEqual([0, 0, 0]);
  });
  it("bounds the whole model from the accessors alone", () => {
    const box = modelBox(json);
    expect(box.min.toArray().map((v) => +v.toFixed(6))).toEqual([-0.1, 0, 0]);
    expect(box.max.toArray().map((v) => +v.toFixed(6))).toEqual([0.06, 0.07, 0.08]);
  });
});
