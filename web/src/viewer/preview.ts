// The first structures on screen while the rest of a large GLB is still being decoded: each mesh
// is shown, in its place, as soon as its buffers are decoded (meshopt decodes in workers, so the
// page can draw between meshes), then handed over to the finished scene graph.
import { Box3, Group, Matrix4, type Object3D, Quaternion, Vector3 } from "three";
import type { GLTFLoaderPlugin, GLTFParser } from "three/examples/jsm/loaders/GLTFLoader.js";

interface NodeDef {
  name?: string; mesh?: number; children?: number[]; matrix?: number[];
  translation?: number[]; rotation?: number[]; scale?: number[];
}
interface AccessorDef { min?: number[]; max?: number[] }
interface MeshDef { primitives: { attributes: Record<string, number> }[] }
interface GltfJson { nodes?: NodeDef[]; accessors?: AccessorDef[]; meshes?: MeshDef[] }

function localMatrix(node: NodeDef): Matrix4 {
  if (node.matrix) return new Matrix4().fromArray(node.matrix);
  const [t, r, s] = [node.translation ?? [0, 0, 0], node.rotation ?? [0, 0, 0, 1], node.scale ?? [1, 1, 1]];
  return new Matrix4().compose(new Vector3(t[0], t[1], t[2]), new Quaternion(r[0], r[1], r[2], r[3]),
    new Vector3(s[0], s[1], s[2]));
}

/** Each mesh's node: its name, its own transform, and where its parent sits in the model. */
export interface Placement { name: string; local: Matrix4; parent: Matrix4; matrix: Matrix4; trs: boolean }

export function meshPlacements(json: GltfJson): Map<number, Placement> {
  const nodes = json.nodes ?? [];
  const parentOf = new Map<number, number>();
  nodes.forEach((n, i) => { for (const c of n.children ?? []) parentOf.set(c, i); });
  const placements = new Map<number, Placement>();
  nodes.forEach((node, i) => {
    if (node.mesh === undefined) return;
    const parent = new Matrix4();
    for (let p = parentOf.get(i); p !== undefined; p = parentOf.get(p)) parent.premultiply(localMatrix(nodes[p]!));
    const local = localMatrix(node);
    placements.set(node.mesh, { name: node.name ?? "", local, parent, matrix: parent.clone().multiply(local),
      trs: node.matrix === undefined });
  });
  return placements;
}

/** The whole model's box, from the file's accessor bounds alone (nothing decoded yet). */
export function modelBox(json: GltfJson): Box3 {
  const box = new Box3();
  for (const [mesh, { matrix }] of meshPlacements(json)) {
    for (const primitive of json.meshes?.[mesh]?.primitives ?? []) {
      const position = json.accessors?.[primitive.attributes.POSITION ?? -1];
      if (!position?.min || !position.max) continue;
      const [lo, hi] = [position.min, position.max];
      box.union(new Box3(new Vector3(lo[0], lo[1], lo[2]), new Vector3(hi[0], hi[1], hi[2])).applyMatrix4(matrix));
    }
  }
  return box;
}

/** What the viewer does with the preview: where to put it, and when the model's box is known. */
export interface PreviewTarget {
  group: Group;
  shows(name: string): boolean; // context structures (body outline, fat) wait for the full model
  onBox(box: Box3): void;
  onMesh(): void;
}

/** A GLTFLoader plugin that shows each mesh in ``target`` as soon as it is decoded. */
export function previewPlugin(target: PreviewTarget): (parser: GLTFParser) => GLTFLoaderPlugin {
  return (parser) => {
    let placements: Map<number, Placement> | null = null;
    return {
      name: "iris_preview",
      beforeRoot: async () => {
        const json = parser.json as GltfJson;
        placements = meshPlacements(json);
        target.onBox(modelBox(json));
      },
      // The parser itself is the last of the plugins: calling its own loadMesh does the work.
      loadMesh: (index: number) => parser.loadMesh(index).then((mesh: Object3D) => {
        const placement = placements?.get(index);
        if (placement && target.shows(placement.name)) {
          // The loader makes this very object the node (its translation and scale, which undo
          // the positions' quantisation, set on it next), so it gets them now, in a holder that
          // stands for the node's parent; the finished scene graph then takes it from the holder.
          // (A node given as a matrix is multiplied in by the loader: it is left to it.)
          if (placement.trs) placement.local.decompose(mesh.position, mesh.quaternion, mesh.scale);
          const holder = new Group();
          holder.matrixAutoUpdate = false;
          holder.matrix.copy(placement.parent);
          holder.add(mesh);
          target.group.add(holder);
          target.onMesh();
        }
        return mesh;
      }),
    } as GLTFLoaderPlugin;
  };
}
