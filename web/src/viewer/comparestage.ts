// The comparison's 3D stage: the two models side by side, their cameras linked (both are in the
// baseline's RAS frame), or overlaid (the follow-up over a grey ghost of the baseline); the
// follow-up coloured by how far its surface moved, with its colour bar; picking and keyboard.
import { h, toast } from "../ui/dom";
import { colourBar } from "./changes";
import { paintAnatomy, paintChange, signedDistances } from "./changescene";
import { colourBarTicks, symmetricLimit } from "./colormap";
import type { CompareMode, CompareView, StructureChange } from "./comparison";
import { describeChange, styleModels, viewNotes } from "./comparestyle";
import { linkViews } from "./link";
import { orientationCube } from "./orientation";
import { loadModel, type LoadedModel } from "./model";
import { AnatomyScene, type StandardView } from "./scene";

const RANGES = [1, 2, 5, 10, 20, 50];
// The toolbar's views, in the order of the keys 1 to 5.
const VIEWS: [StandardView, string][] = [
  ["anterior", "Anterior"], ["posterior", "Posterior"], ["right", "Right"], ["left", "Left"], ["superior", "Superior"],
];
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What the stage shows: each study's name and model, and the report's structures. */
export interface StageSource {
  base: { name: string; glb: string };
  follow: { name: string; glb: string }; // comparison.glb: in the baseline's frame, with distances
  rows: StructureChange[];
}

/** How the stage starts (from the page's URL). */
export type StageStart = Pick<CompareView, "mode" | "range" | "camera" | "selected">;

/** What the stage tells the page: a structure picked (null: show all), the view changed. */
export interface StageEvents {
  pick(name: string | null): void;
  change(): void;
}

interface Viewport { element: HTMLElement; label: HTMLElement; note: HTMLElement; scene: AnatomyScene }

function viewport(side: "before" | "after", title: string, studyName: string): Viewport {
  const label = h("div", { class: "viewport-label" }, `${title} · ${studyName}`);
  const note = h("div", { class: "viewport-note", hidden: true });
  const element = h("div", { class: "viewport", "data-side": side }, label, note, h("div", { class: "loading" }, "Loading…"));
  const scene = new AnatomyScene(element);
  scene.renderer.domElement.setAttribute("aria-label", `${title}: 3D anatomy`);
  return { element, label, note, scene };
}

export class CompareStage {
  readonly element: HTMLElement;
  private mode: CompareMode;
  private range: number | null;
  private selected: string | null;
  private readonly byName: Map<string, StructureChange>;
  private readonly before: Viewport;
  private readonly after: Viewport;
  private readonly viewports: HTMLElement;
  private readonly bar = colourBar();
  private readonly rangeSelect = h("select", { "aria-label": "Colour scale range" });
  private readonly colourByChange = h("input", { type: "checkbox", id: "colour-change" });
  private readonly modeButtons: HTMLElement[];
  private readonly info = h("div", { class: "pick-info", role: "status", "aria-live": "polite" });
  private models: { a: LoadedModel; b: LoadedModel } | null = null; // null until both are loaded
  private ghost: LoadedModel | null = null; // the baseline again, loaded for the overlay
  private autoLimit = 1;
  private sideByChange = false; // the checkbox's state side by side, while the overlay forces it on
  private disposed = false;

  constructor(private readonly source: StageSource, private readonly start: StageStart,
    private readonly on: StageEvents) {
    this.mode = start.mode;
    this.range = start.range;
    this.selected = start.selected;
    this.byName = new Map(source.rows.map((r) => [r.name, r]));
    this.before = viewport("before", "Before", source.base.name);
    this.after = viewport("after", "After", source.follow.name);
    const cube = orientationCube((v) => this.active().view(v));
    this.after.element.append(cube.element);
    this.after.scene.onRender = (camera) => cube.update(camera);
    this.viewports = h("div", { class: "viewports" }, this.before.element, this.after.element);
    this.modeButtons = (["side", "overlay"] as CompareMode[]).map((m) => {
      const b = h("button", { type: "button", "data-mode": m, "aria-pressed": "false" }, m === "side" ? "Side by side" : "Overlay");
      b.addEventListener("click", () => void this.setMode(m));
      return b;
    });
    this.colourByChange.addEventListener("change", () => this.paint());
    this.rangeSelect.addEventListener("change", () => {
      this.range = this.rangeSelect.value ? Number(this.rangeSelect.value) : null;
      this.paint();
      this.on.change();
    });
    this.element = h("section", { class: "stage compare-stage" },
      this.toolbar(), this.viewports, this.bar.element, this.info);
  }

  private toolbar(): HTMLElement {
    const viewButtons = VIEWS.map(([v, label], i) => {
      const b = h("button", { type: "button", title: `${label} view (${i + 1})` }, label);
      b.addEventListener("click", () => this.active().view(v));
      return b;
    });
    const showAll = h("button", { type: "button", title: "Show every structure (Esc)" }, "Show all");
    showAll.addEventListener("click", () => this.on.pick(null));
    return h("div", { class: "toolbar", role: "toolbar", "aria-label": "View" },
      h("span", { class: "segmented" }, ...this.modeButtons), h("span", { class: "sep" }),
      ...viewButtons, h("span", { class: "sep" }), showAll, h("span", { class: "sep" }),
      h("label", { class: "check small" }, this.colourByChange, " Colour by change"), this.rangeSelect);
  }

  /** The view the camera, the toolbar and the keys act on. */
  private active(): AnatomyScene {
    return this.mode === "overlay" ? this.after.scene : this.before.scene;
  }

  /** What the page keeps of the stage in its URL. */
  state(): Pick<CompareView, "mode" | "range" | "camera"> {
    return { mode: this.mode, range: this.range, camera: this.active().cameraState() };
  }

  /** Loads both models and shows them as the mode asks; false when they could not be loaded
   * (the viewports say why) or the page was left meanwhile. */
  async load(): Promise<boolean> {
    let a: LoadedModel;
    let b: LoadedModel;
    try {
      [a, b] = await Promise.all([loadModel(this.source.base.glb), loadModel(this.source.follow.glb)]);
    } catch (e) {
      for (const l of this.viewports.querySelectorAll(".loading")) l.textContent = `The models could not be loaded: ${message(e)}`;
      return false;
    }
    if (!this.before.scene.setMain(a) || !this.after.scene.setMain(b) || this.disposed) return false;
    for (const l of this.viewports.querySelectorAll(".loading")) l.remove();
    this.models = { a, b };
    this.fillRanges(b);
    this.linkCameras();
    this.enablePicking();
    document.addEventListener("keydown", this.onKey);
    this.markReadyWhenDrawn();
    await this.setMode(this.mode);
    this.before.scene.requestFrame();
    this.after.scene.requestFrame();
    return !this.disposed;
  }

  /** The colour scale's ranges: automatic (from the follow-up's distances), or fixed. */
  private fillRanges(follow: LoadedModel): void {
    this.autoLimit = symmetricLimit([...signedDistances(follow).values()].flat());
    this.rangeSelect.append(h("option", { value: "" }, `Auto (±${this.autoLimit} mm)`),
      ...RANGES.map((r) => h("option", { value: r }, `±${r} mm`)));
    this.rangeSelect.value = this.range !== null && RANGES.includes(this.range) ? String(this.range) : "";
  }

  private linkCameras(): void {
    const [a, b] = [this.before.scene, this.after.scene];
    const link = linkViews([a, b]);
    a.onChange = () => { link(0); this.on.change(); };
    b.onChange = () => { link(1); this.on.change(); };
    if (this.start.camera) a.setCamera(this.start.camera.position, this.start.camera.target);
    link(0);
  }

  /** A click (not a drag, which turns the camera) picks the structure under it. */
  private enablePicking(): void {
    for (const { scene, element } of [this.before, this.after]) {
      let down: [number, number] | null = null;
      const canvas = scene.renderer.domElement;
      canvas.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
      canvas.addEventListener("pointerup", (e) => {
        if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) < 4) {
          const hit = scene.pick(e.clientX, e.clientY);
          if (hit !== this.selected) this.on.pick(hit);
        }
        down = null;
      });
      canvas.dataset.side = element.dataset.side;
    }
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if ((e.target as HTMLElement).matches("input, select, textarea")) return;
    const n = Number(e.key);
    if (n >= 1 && n <= VIEWS.length) this.active().view(VIEWS[n - 1]![0]);
    else if (e.key === "Escape") this.on.pick(null);
  };

  /** body[data-compare-ready] once both views have drawn: what the browser tests wait for. */
  private markReadyWhenDrawn(): void {
    let frames = 0;
    for (const scene of [this.before.scene, this.after.scene]) {
      scene.onFrame = () => {
        scene.onFrame = null;
        if (++frames < 2) return;
        document.body.dataset.compareReady = String(performance.now());
      };
    }
  }

  /** Side by side or overlaid; before the models are here it does nothing. */
  async setMode(m: CompareMode): Promise<void> {
    if (!this.models) return;
    this.mode = m;
    for (const b of this.modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === m));
    this.viewports.dataset.mode = m;
    this.before.element.hidden = m === "overlay";
    const name = this.source.follow.name;
    this.after.label.textContent = m === "overlay" ? `After · ${name}, over the baseline (grey)` : `After · ${name}`;
    // The overlay is always coloured by change; side by side, as the user chose.
    const box = this.colourByChange;
    if (m === "overlay") { this.sideByChange = box.checked; box.checked = true; }
    else if (box.disabled) box.checked = this.sideByChange;
    box.disabled = m === "overlay";
    if (m === "overlay" && !this.ghost) {
      await this.loadGhost();
      if (this.disposed) return;
    }
    this.paint();
    this.on.change();
  }

  private async loadGhost(): Promise<void> {
    const vp = this.after.element;
    vp.dataset.ghost = "loading";
    const loaded = await loadModel(this.source.base.glb).catch(() => null);
    if (this.disposed) return;
    if (loaded && this.after.scene.add(loaded)) this.ghost = loaded;
    else toast("The baseline model could not be loaded for the overlay.", "error");
    vp.dataset.ghost = this.ghost ? "ready" : "failed";
  }

  private readonly statusOf = (name: string): StructureChange["status"] => this.byName.get(name)?.status ?? "both";

  /** Colours the follow-up by change or by anatomy, then styles every view. */
  private paint(): void {
    if (!this.models) return;
    const limit = this.range ?? this.autoLimit;
    const painted = this.byChange();
    if (painted) paintChange(this.models.b, limit, this.statusOf); else paintAnatomy(this.models.b);
    this.bar.setTicks(colourBarTicks(limit));
    this.bar.element.hidden = !painted;
    this.rangeSelect.hidden = !painted;
    this.after.element.dataset.painted = painted ? "change" : "anatomy";
    this.applyStyles();
  }

  private byChange(): boolean {
    return this.mode === "overlay" || this.colourByChange.checked;
  }

  /** Shows only ``name`` (null: everything) in every view, framed unless ``frame`` is false;
   * before the models are here it is only remembered. */
  isolate(name: string | null, frame: boolean): void {
    this.selected = name;
    if (!this.models) return;
    this.applyStyles();
    this.describeSelected();
    // Side by side, a structure only the follow-up has is framed there.
    const scene = this.mode === "side" && name !== null && !this.models.a.meshes.has(name) ? this.after.scene : this.active();
    if (frame) scene.focus(name);
  }

  private applyStyles(): void {
    if (!this.models) return;
    const context = { mode: this.mode, selected: this.selected, painted: this.byChange(), statusOf: this.statusOf };
    styleModels(this.before.scene, this.after.scene, { ...this.models, ghost: this.ghost }, context);
    const notes = viewNotes(this.selected ? this.byName.get(this.selected) : undefined, this.mode);
    for (const [vp, note] of [[this.before, notes.before], [this.after, notes.after]] as const) {
      vp.note.hidden = note.hidden;
      vp.note.textContent = note.text;
    }
  }

  private describeSelected(): void {
    const r = this.selected ? this.byName.get(this.selected) : undefined;
    if (r) this.info.replaceChildren(...describeChange(r));
    else this.info.textContent = "Click a structure (in 3D or in the table) to show only it.";
  }

  /** Frees both views (WebGL contexts included) and stops listening to the keyboard. */
  dispose(): void {
    this.disposed = true;
    this.before.scene.dispose();
    this.after.scene.dispose();
    document.removeEventListener("keydown", this.onKey);
    delete document.body.dataset.compareReady;
  }
}
