// The three.js side of the viewers: frame models, draw on demand, pick, clip (with closed cuts), dispose.
import {
  AmbientLight, Box3, Color, DirectionalLight, Group, HemisphereLight, MeshStandardMaterial,
  type Object3D, PerspectiveCamera, Plane, Raycaster, Scene, SRGBColorSpace, Vector2, Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { SectionCaps } from "./caps";
import { disposeObject, type LoadedModel, loadModel } from "./model";
import { isContext, type StructureInfo, type StructureStyle } from "./tree";
import type { ClipAxis } from "./viewstate";

export type StandardView = "anterior" | "posterior" | "left" | "right" | "superior" | "inferior";

// glTF axes of the GLB: x = patient's Left, y = Superior, z = Anterior (see export/glb.py).
const VIEW_DIRECTIONS: Record<StandardView, [Vector3, Vector3]> = {
  anterior: [new Vector3(0, 0, 1), new Vector3(0, 1, 0)],
  posterior: [new Vector3(0, 0, -1), new Vector3(0, 1, 0)],
  left: [new Vector3(1, 0, 0), new Vector3(0, 1, 0)],
  right: [new Vector3(-1, 0, 0), new Vector3(0, 1, 0)],
  superior: [new Vector3(0, 1, 0), new Vector3(0, 0, -1)],
  inferior: [new Vector3(0, -1, 0), new Vector3(0, 0, 1)],
};
export interface CameraPose {
  position: [number, number, number];
  target: [number, number, number];
  up: [number, number, number];
  near: number;
  far: number;
}

const shownInScene = (o: Object3D): boolean => {
  for (let p: Object3D | null = o; p; p = p.parent) if (!p.visible) return false;
  return true;
};

const CLIP_NORMALS: Record<ClipAxis, Vector3> = {
  axial: new Vector3(0, -1, 0), coronal: new Vector3(0, 0, -1), sagittal: new Vector3(1, 0, 0),
};

export class AnatomyScene {
  readonly renderer: WebGLRenderer;
  readonly camera = new PerspectiveCamera(35, 1, 0.001, 100);
  readonly controls: OrbitControls;
  private scene = new Scene();
  private models: LoadedModel[] = [];
  private primary: LoadedModel | null = null;
  private disposed = false;
  private box = new Box3();
  private frameBox = new Box3(); // what the views fit: the whole model, or the focused structure
  private homeBox = new Box3(); // what they fit with nothing focused
  private clipPlane = new Plane(new Vector3(0, -1, 0), 0);
  private clipping = false;
  private caps: SectionCaps;
  private capsStale = false;
  private closeCuts = true;
  private frameRequested = false;
  private resizeObserver: ResizeObserver;
  onFrame: (() => void) | null = null;
  /** Called once, at the first frame with a structure on screen (preview or whole model). */
  onFirstPixels: (() => void) | null = null;
  private previewing = false;
  onRender: ((camera: PerspectiveCamera) => void) | null = null;
  onChange: (() => void) | null = null;

  constructor(private host: HTMLElement) {
    this.renderer = new WebGLRenderer({ antialias: true, stencil: true }); // stencil: caps.ts
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.outputColorSpace = SRGBColorSpace;
    this.renderer.localClippingEnabled = true;
    this.renderer.setClearColor(new Color("#0e1116"));
    host.append(this.renderer.domElement);
    this.renderer.domElement.setAttribute("aria-label", "3D anatomy view");
    this.renderer.domElement.tabIndex = 0;
    this.scene.add(new HemisphereLight(0xffffff, 0x445566, 1.4), new AmbientLight(0xffffff, 0.25));
    const key = new DirectionalLight(0xffffff, 1.6);
    key.position.set(0.5, 1, 1);
    this.camera.add(key);
    this.scene.add(this.camera);
    this.caps = new SectionCaps(this.scene);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = false;
    this.controls.addEventListener("change", () => { this.requestFrame(); this.onChange?.(); });
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.resize();
  }

  /** Loads the GLB, the scene's main model, and frames it; returns each structure found. The
   * findings are drawn one by one as they are decoded, framed from the file's bounds. */
  async load(url: string): Promise<StructureInfo[]> {
    const preview = new Group();
    this.scene.add(preview);
    const model = await loadModel(url, {
      group: preview,
      shows: (name) => !isContext(name),
      onBox: (box) => { this.box.copy(box); this.frameBox.copy(box); this.homeBox.copy(box); this.view("anterior"); },
      onMesh: () => { this.previewing = true; this.requestFrame(); },
    }).finally(() => preview.removeFromParent());
    this.setMain(model); // false when the page was left while it loaded: nothing to do
    return model.structures;
  }

  /** Shows ``model`` as the scene's main model (styled by default, framed by the views). */
  setMain(model: LoadedModel): boolean {
    if (!this.add(model)) return false;
    this.primary = model;
    this.box.setFromObject(model.root);
    this.frameBox.copy(this.box);
    this.homeBox.copy(this.box);
    this.view("anterior");
    return true;
  }

  /** Adds a model in the same coordinates (another GLB drawn with the main one); false, and
   * the model freed, when the scene was disposed meanwhile. */
  add(model: LoadedModel): boolean {
    if (this.disposed) { disposeObject(model.root); return false; }
    this.models.push(model);
    this.scene.add(model.root);
    const planes = this.primaryPlanes();
    for (const list of model.meshes.values()) {
      for (const mesh of list) (mesh.material as MeshStandardMaterial).clippingPlanes = planes;
    }
    this.requestFrame();
    return true;
  }

  /** Styles one structure of ``model`` (the main model unless said). */
  applyStyle(name: string, style: StructureStyle, shown: boolean, selected: boolean,
    model: LoadedModel | null = this.primary): void {
    for (const mesh of model?.meshes.get(name) ?? []) {
      const m = mesh.material as MeshStandardMaterial;
      mesh.visible = shown && style.opacity > 0;
      m.color.set(style.colour);
      m.opacity = style.opacity;
      m.transparent = style.opacity < 1;
      m.depthWrite = style.opacity >= 1;
      m.emissive.set(selected ? "#505050" : "#000000");
    }
    this.capsStale = true;
    this.requestFrame();
  }

  /** Makes the standard views fit these structures of the main model (the first view frames
   * what the user came for, not the body's outline); the clipping plane still spans it all. */
  frameOn(names: string[]): void {
    const meshes = names.flatMap((n) => this.primary?.meshes.get(n) ?? []);
    if (!meshes.length) return;
    this.frameBox.makeEmpty();
    for (const mesh of meshes) this.frameBox.expandByObject(mesh);
    this.homeBox.copy(this.frameBox);
    this.view("anterior");
  }

  view(which: StandardView): void {
    const [dir, up] = VIEW_DIRECTIONS[which];
    this.look(dir, up);
  }

  /** Frames one structure (of any model here) from where the camera is; null: the whole model. */
  focus(name: string | null): void {
    const meshes = name === null ? [] : this.models.flatMap((m) => m.meshes.get(name) ?? []);
    if (meshes.length) {
      this.frameBox.makeEmpty();
      for (const mesh of meshes) this.frameBox.expandByObject(mesh);
    } else this.frameBox.copy(this.homeBox);
    const dir = this.camera.position.clone().sub(this.controls.target).normalize();
    this.look(dir, this.camera.up.clone());
  }

  private look(dir: Vector3, up: Vector3): void {
    const centre = this.frameBox.getCenter(new Vector3());
    const size = this.frameBox.getSize(new Vector3());
    // Fit the box's face seen from this side (not its bounding sphere): a flat abdomen fills
    // the view instead of floating small in the middle.
    const right = new Vector3().crossVectors(up, dir).normalize();
    const screenUp = new Vector3().crossVectors(dir, right); // = up for the standard views
    const extent = (axis: Vector3): number =>
      Math.abs(axis.x) * size.x + Math.abs(axis.y) * size.y + Math.abs(axis.z) * size.z;
    const tan = Math.tan((this.camera.fov * Math.PI) / 360);
    const fit = Math.max(extent(screenUp) / 2 / tan, extent(right) / 2 / (tan * this.camera.aspect));
    const distance = Math.max(fit * 1.15 + extent(dir) / 2, 0.01);
    this.camera.up.copy(up);
    this.camera.position.copy(centre).addScaledVector(dir, distance);
    this.camera.near = distance / 100;
    this.camera.far = distance * 10;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(centre);
    this.controls.update();
    this.requestFrame();
  }

  setCamera(position: [number, number, number], target: [number, number, number]): void {
    this.camera.position.set(...position);
    this.controls.target.set(...target);
    this.controls.update();
    this.requestFrame();
  }

  cameraState(): { position: [number, number, number]; target: [number, number, number] } {
    const p = this.camera.position;
    const t = this.controls.target;
    return { position: [p.x, p.y, p.z], target: [t.x, t.y, t.z] };
  }

  /** Where the camera is, looks at and which way is up: what linked views share. */
  pose(): CameraPose {
    const u = this.camera.up;
    return { ...this.cameraState(), up: [u.x, u.y, u.z], near: this.camera.near, far: this.camera.far };
  }

  setPose(pose: CameraPose): void {
    this.camera.up.set(...pose.up);
    this.camera.near = pose.near;
    this.camera.far = pose.far;
    this.camera.updateProjectionMatrix();
    this.setCamera(pose.position, pose.target);
  }

  /** Cut away everything on one side of a plane; ``at`` goes 0..1 across the model's box. */
  setClip(clip: { axis: ClipAxis; at: number; flip: boolean } | null): void {
    const planes = clip ? [this.clipPlane] : [];
    this.clipping = clip !== null;
    this.capsStale = true;
    if (clip) {
      const normal = CLIP_NORMALS[clip.axis].clone().multiplyScalar(clip.flip ? -1 : 1);
      const axis = clip.axis === "axial" ? "y" : clip.axis === "coronal" ? "z" : "x";
      const coord = this.box.min[axis] + (this.box.max[axis] - this.box.min[axis]) * clip.at;
      const point = new Vector3();
      point[axis] = coord;
      this.clipPlane.setFromNormalAndCoplanarPoint(normal, point);
    }
    for (const model of this.models) {
      for (const list of model.meshes.values()) {
        for (const mesh of list) (mesh.material as MeshStandardMaterial).clippingPlanes = planes;
      }
    }
    this.requestFrame();
  }

  /** Whether cut structures show a closed face on the clipping plane (else their open shell). */
  setCloseCuts(on: boolean): void {
    this.closeCuts = on;
    this.capsStale = true;
    this.requestFrame();
  }

  /** How many structures show a closed cut now. */
  get cappedCount(): number {
    return this.caps.count;
  }

  private updateCaps(): void {
    this.capsStale = false;
    const meshes = this.models.flatMap((m) => [...m.meshes.values()].flat()).filter(shownInScene);
    this.caps.update(meshes, this.clipping && this.closeCuts ? this.clipPlane : null, this.box);
  }

  private primaryPlanes(): Plane[] {
    const first = this.models[0]?.meshes.values().next().value?.[0];
    return (first?.material as MeshStandardMaterial | undefined)?.clippingPlanes ?? [];
  }

  pick(clientX: number, clientY: number): string | null {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new Vector2(((clientX - rect.left) / rect.width) * 2 - 1,
      -((clientY - rect.top) / rect.height) * 2 + 1);
    const ray = new Raycaster();
    ray.setFromCamera(ndc, this.camera);
    const visible = this.models.flatMap((m) => [...m.meshes.values()].flat()).filter(shownInScene);
    const planes = (visible[0]?.material as MeshStandardMaterial | undefined)?.clippingPlanes ?? [];
    for (const hit of ray.intersectObjects(visible, false)) {
      if (planes.every((p) => p.distanceToPoint(hit.point) >= 0)) {
        return (hit.object.userData.structure as string | undefined) ?? null;
      }
    }
    return null;
  }

  screenshot(): string {
    if (this.capsStale) this.updateCaps();
    this.renderer.render(this.scene, this.camera);
    return this.renderer.domElement.toDataURL("image/png");
  }

  requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      if (this.capsStale) this.updateCaps();
      this.renderer.render(this.scene, this.camera);
      if (this.onFirstPixels && (this.previewing || this.primary)) {
        this.onFirstPixels();
        this.onFirstPixels = null;
      }
      this.onRender?.(this.camera);
      this.onFrame?.();
    });
  }

  private resize(): void {
    const { clientWidth: w, clientHeight: h } = this.host;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestFrame();
  }

  /** Frees every geometry, material, texture and the WebGL context. */
  dispose(): void {
    this.disposed = true;
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.caps.dispose();
    disposeObject(this.scene);
    this.models = [];
    this.primary = null;
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.renderer.domElement.remove();
  }
}
