// Loading a GLB for the viewers: each structure's meshes under its name, with a material of its
// own; and freeing what a model holds.
import type { Mesh, MeshStandardMaterial, Object3D } from "three";
import { GLTFLoader, type GLTFParser } from "three/examples/jsm/loaders/GLTFLoader.js";
import { MeshoptDecoder } from "three/examples/jsm/libs/meshopt_decoder.module.js";
import { previewPlugin, type PreviewTarget } from "./preview";
import type { StructureInfo } from "./tree";

let decoderWorkers = false;

/** A loaded GLB: its scene graph and its meshes by structure name. */
export interface LoadedModel {
  root: Object3D;
  meshes: Map<string, Mesh[]>;
  structures: StructureInfo[]; // name, group, colour from its material; in the file's order
}

/** A node's name as the file spells it: three.js makes names unique in the scene ("skeleton"
 * the structure inside "skeleton" the group becomes "skeleton_1"), which would break every
 * lookup by name (statistics, links, comparisons). */
function fileName(parser: GLTFParser, node: Object3D): string {
  const index = parser.associations.get(node)?.nodes;
  const json = parser.json as { nodes?: { name?: string }[] };
  return (index !== undefined ? json.nodes?.[index]?.name : undefined) ?? node.name;
}

/** Loads a GLB (meshopt): each structure's meshes get their own double-sided material. With a
 * ``preview``, each mesh is shown there as soon as it is decoded (see preview.ts). */
export async function loadModel(url: string, preview?: PreviewTarget): Promise<LoadedModel> {
  const loader = new GLTFLoader();
  if (!decoderWorkers) {
    // Decoding in workers uses the other cores and lets the page draw between meshes.
    MeshoptDecoder.useWorkers(Math.min(4, Math.max(1, (navigator.hardwareConcurrency || 2) - 1)));
    decoderWorkers = true;
  }
  loader.setMeshoptDecoder(MeshoptDecoder);
  if (preview) loader.register(previewPlugin(preview));
  const gltf = await loader.loadAsync(url);
  const meshes = new Map<string, Mesh[]>();
  const structures: StructureInfo[] = [];
  gltf.scene.traverse((o: Object3D) => {
    if (!(o as Mesh).isMesh) return;
    const mesh = o as Mesh;
    // One primitive: the structure's node is the mesh; several: the mesh's parent group.
    const node = mesh.parent?.parent?.name === "patient" || !mesh.parent ? mesh : mesh.parent;
    const name = fileName(gltf.parser, node);
    const group = typeof node.userData.group === "string" ? node.userData.group
      : node.parent ? fileName(gltf.parser, node.parent) : "other";
    const material = (mesh.material as MeshStandardMaterial).clone();
    material.side = 2; // DoubleSide: clipped organs show their inside
    material.clippingPlanes = [];
    mesh.material = material;
    mesh.userData.structure = name;
    const list = meshes.get(name) ?? [];
    list.push(mesh);
    meshes.set(name, list);
    if (list.length === 1) structures.push({ name, group, colour: `#${material.color.getHexString()}` });
  });
  return { root: gltf.scene, meshes, structures };
}

/** Frees every geometry, material and texture under ``root``. */
export function disposeObject(root: Object3D): void {
  root.traverse((o) => {
    const mesh = o as Mesh;
    if (!mesh.isMesh) return;
    mesh.geometry.dispose();
    const mats = Array.isArray(mesh.material) ? mesh.material : [mesh.material];
    for (const m of mats) {
      for (const value of Object.values(m)) if (value && (value as { isTexture?: boolean }).isTexture) (value as { dispose(): void }).dispose();
      m.dispose();
    }
  });
}
