// Closed cut surfaces: where the clipping plane cuts an opaque structure, its cross-section is
// drawn as a flat face in the structure's colour (as 3D Slicer and surgical planning tools show a
// cut organ), not an open shell. The stencil buffer counts, per pixel, the back faces minus the
// front faces of one structure's clipped surface: a non-zero count means the pixel looks at the
// cut through the solid, so the structure's cap is drawn there, and the count is reset by it.
import {
  AlwaysStencilFunc, BackSide, type Box3, DecrementWrapStencilOp, DoubleSide, FrontSide, Group,
  IncrementWrapStencilOp, type Material, Mesh, MeshBasicMaterial, type MeshStandardMaterial,
  NotEqualStencilFunc, type Plane, PlaneGeometry, ReplaceStencilOp, type Scene, type Side,
  Vector3,
} from "three";

// Structures fainter than this keep an open cut: the user sees through them anyway, and a
// translucent cap cannot take part in the stencil's per-structure order.
const CAPPED_OPACITY = 0.99;

function counter(side: Side, plane: Plane): MeshBasicMaterial {
  const op = side === BackSide ? IncrementWrapStencilOp : DecrementWrapStencilOp;
  return new MeshBasicMaterial({
    side, colorWrite: false, depthWrite: false, depthTest: false, clippingPlanes: [plane],
    stencilWrite: true, stencilFunc: AlwaysStencilFunc, stencilFail: op, stencilZFail: op, stencilZPass: op,
  });
}

export class SectionCaps {
  private group = new Group();
  private plane: Plane | null = null;
  private capGeometry = new PlaneGeometry(1, 1);
  /** How many structures have a cap now (for tests and the page's status). */
  count = 0;

  constructor(scene: Scene) {
    this.group.name = "section-caps";
    scene.add(this.group);
  }

  /** Draw caps on ``plane`` for these meshes (null: clipping is off, no caps). */
  update(meshes: Mesh[], plane: Plane | null, box: Box3): void {
    this.clear();
    this.plane = plane;
    if (!plane) return;
    const capped = meshes.filter((m) => {
      const material = m.material as MeshStandardMaterial;
      return m.visible && material.opacity >= CAPPED_OPACITY;
    });
    const size = box.getSize(new Vector3()).length() * 2;
    const centre = plane.projectPoint(box.getCenter(new Vector3()), new Vector3());
    capped.forEach((mesh, i) => {
      mesh.updateWorldMatrix(true, false);
      const order = 1 + i * 3; // back faces, front faces, then the cap, structure by structure
      const back = new Mesh(mesh.geometry, counter(BackSide, plane));
      const front = new Mesh(mesh.geometry, counter(FrontSide, plane));
      for (const part of [back, front]) {
        part.matrixAutoUpdate = false;
        part.matrix.copy(mesh.matrixWorld);
        part.matrixWorldNeedsUpdate = true;
        part.raycast = () => undefined; // picking sees the structures, not their counters
      }
      back.renderOrder = order;
      front.renderOrder = order + 1;
      const source = mesh.material as MeshStandardMaterial;
      const material = source.clone();
      Object.assign(material, {
        side: DoubleSide, clippingPlanes: [], stencilWrite: true, stencilRef: 0,
        stencilFunc: NotEqualStencilFunc, stencilFail: ReplaceStencilOp,
        stencilZFail: ReplaceStencilOp, stencilZPass: ReplaceStencilOp,
      });
      const cap = new Mesh(this.capGeometry, material);
      cap.scale.set(size, size, 1);
      cap.position.copy(centre);
      cap.lookAt(centre.clone().sub(plane.normal)); // faces the cut-away side, where the camera is
      cap.renderOrder = order + 2;
      cap.raycast = () => undefined;
      cap.userData.capOf = mesh.userData.structure;
      this.group.add(back, front, cap);
    });
    this.count = new Set(capped.map((m) => m.userData.structure as string)).size;
  }

  get active(): boolean {
    return this.plane !== null;
  }

  private clear(): void {
    for (const child of this.group.children) ((child as Mesh).material as Material).dispose();
    this.group.clear();
    this.count = 0;
  }

  dispose(): void {
    this.clear();
    this.capGeometry.dispose();
    this.group.removeFromParent();
  }
}
