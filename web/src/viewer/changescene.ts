// The follow-up's surfaces coloured by how far they moved from the baseline's (the vertex
// attribute _SIGNED_DISTANCE of comparison.glb, which three.js's GLTFLoader lower-cases).
// Vertices flagged _SCAN_EDGE lie where a scan cut the structure: their distance measures the
// cut, not a change, so they count as no data (grey, and left out of the automatic range).
import { BufferAttribute, type BufferGeometry, type MeshStandardMaterial } from "three";
import { colourDistances, type SurfaceStatus } from "./colormap";
import type { LoadedModel } from "./model";

export const DISTANCE_ATTRIBUTE = "_signed_distance";
export const SCAN_EDGE_ATTRIBUTE = "_scan_edge";

function distances(geometry: BufferGeometry): Float32Array | null {
  const attr = geometry.getAttribute(DISTANCE_ATTRIBUTE) ?? geometry.getAttribute("_SIGNED_DISTANCE");
  if (!attr) return null;
  const edge = geometry.getAttribute(SCAN_EDGE_ATTRIBUTE) ?? geometry.getAttribute("_SCAN_EDGE");
  const out = new Float32Array(attr.count);
  for (let i = 0; i < attr.count; i++) out[i] = edge && edge.getX(i) > 0.5 ? NaN : attr.getX(i);
  return out;
}

/** Every structure's per-vertex signed distances (mm), one array per mesh. */
export function signedDistances(model: LoadedModel): Map<string, Float32Array[]> {
  const found = new Map<string, Float32Array[]>();
  for (const [name, meshes] of model.meshes) {
    const arrays = meshes.map((m) => distances(m.geometry)).filter((a): a is Float32Array => a !== null);
    if (arrays.length) found.set(name, arrays);
  }
  return found;
}

/** Colours ``model`` by signed distance on a ±``limit`` mm scale (the material's own colour
 * should then be white, as it multiplies the vertices'); structures without distances are
 * coloured as their status says, else left grey. */
export function paintChange(
  model: LoadedModel, limit: number, statusOf: (name: string) => SurfaceStatus,
): void {
  for (const [name, meshes] of model.meshes) {
    const status = statusOf(name);
    for (const mesh of meshes) {
      const d = distances(mesh.geometry) ?? new Float32Array(mesh.geometry.getAttribute("position").count).fill(NaN);
      mesh.geometry.setAttribute("color", new BufferAttribute(colourDistances(d, limit, status, true), 3));
      setVertexColours(mesh.material as MeshStandardMaterial, true);
    }
  }
}

/** Back to each structure's own colour. */
export function paintAnatomy(model: LoadedModel): void {
  for (const meshes of model.meshes.values()) {
    for (const mesh of meshes) setVertexColours(mesh.material as MeshStandardMaterial, false);
  }
}

function setVertexColours(material: MeshStandardMaterial, on: boolean): void {
  if (material.vertexColors === on) return;
  material.vertexColors = on;
  material.needsUpdate = true; // another shader
}
