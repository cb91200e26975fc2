// The Slices tab: CT in three planes with the segmentation over it. NiiVue arrives by import()
// the first time the tab opens, so the 3D viewer's bundle never carries it.
import { artifact, type Job } from "../api/client";
import { h, toast } from "../ui/dom";
import {
  describeVoxel, labelColormap, nameOfLabel, parseLabelTable, WINDOW_PRESETS, windowOf, windowRange,
  type LabelEntry, type PresetName,
} from "../viewer/slices";
import type { SliceTool, SliceView } from "../viewer/slicevolume";

const TOOLS: [SliceTool, string, string][] = [
  ["crosshair", "Crosshair", "Drag to move the crosshair"],
  ["window", "Window/level", "Drag: left–right changes the width, up–down the level"],
  ["measure", "Measure", "Drag to measure a distance in millimetres"],
];

export interface SlicePanel {
  element: HTMLElement;
  /** Show the panel; loads NiiVue and the volumes the first time. */
  open(): void;
  /** A structure chosen elsewhere (3D, tree): move the crosshair to its centroid. */
  select(name: string | null): void;
  /** Colours changed in 3D: repaint the overlay to match. */
  recolour(): void;
  dispose(): void;
}

export function slicePanel(
  job: Job,
  colourOf: (name: string) => string | undefined,
  centroidOf: (name: string) => [number, number, number] | undefined,
  onPick: (name: string) => void,
): SlicePanel {
  const ct = artifact(job, "ct_nifti");
  const labels = artifact(job, "labels_nifti");
  const table = artifact(job, "labels_json");
  const host = h("div", { class: "slices-view" });
  const preset = h("select", { "aria-label": "Window preset" },
    ...Object.entries(WINDOW_PRESETS).map(([k, p]) => h("option", { value: k }, `${p.label} (W${p.width} L${p.level})`)));
  const opacity = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: 0.5, "aria-label": "Overlay opacity" });
  const status = h("div", { class: "pick-info", role: "status", "aria-live": "polite" },
    "Click a labelled voxel to highlight its structure in 3D.");
  const windowLabel = h("span", { class: "window-value", "data-testid": "slice-window" });
  const measured = h("span", { class: "measure-value", "data-testid": "slice-distance" });
  const tools = TOOLS.map(([tool, label, title]) => {
    const b = h("button", { type: "button", title, "aria-pressed": tool === "crosshair" ? "true" : "false" }, label);
    b.addEventListener("click", () => {
      tools.forEach((t) => t.setAttribute("aria-pressed", String(t === b)));
      view?.setTool(tool);
    });
    return b;
  });
  const clear = h("button", { type: "button", title: "Remove the distance lines" }, "Clear");
  clear.addEventListener("click", () => { view?.clearMeasurements(); measured.textContent = ""; });
  const element = h("section", { class: "tab-panel slices", hidden: true, id: "tab-slices" },
    h("div", { class: "toolbar", role: "toolbar", "aria-label": "Slices" },
      h("label", {}, "Window ", preset), windowLabel, h("label", {}, "Overlay ", opacity),
      h("span", { class: "sep" }), h("span", { role: "group", "aria-label": "Drag tool" }, ...tools), clear, measured),
    host, status);
  const showWindow = (min: number, max: number): void => {
    const { width, level } = windowOf(min, max);
    windowLabel.textContent = `W ${width} L ${level}`;
  };
  showWindow(...windowRange(WINDOW_PRESETS[preset.value as PresetName]));

  let view: SliceView | null = null;
  let entries: LabelEntry[] = [];
  let loading: Promise<void> | null = null;
  let pending: string | null = null;
  let fromSlice: string | null = null;
  let disposed = false;

  const moveTo = (name: string): void => {
    const mm = centroidOf(name);
    if (view && mm) { view.moveTo(mm); element.dataset.crosshair = view.crosshairMm().map((v) => v.toFixed(1)).join(","); }
  };
  const load = async (): Promise<void> => {
    if (!ct || !labels || !table) { status.textContent = "This study has no CT volume for slice views (processed before they existed)."; return; }
    const [{ SliceView: View }, doc] = await Promise.all([
      import("../viewer/slicevolume"), fetch(table.url).then((r) => r.json() as Promise<unknown>),
    ]);
    if (disposed) return;
    entries = parseLabelTable(doc);
    view = new View(host);
    view.onLabel = (id) => {
      const name = nameOfLabel(entries, id);
      if (!name) return;
      fromSlice = name;
      onPick(name);
    };
    view.onLocation = (at) => {
      status.textContent = describeVoxel(at, view?.dims() ?? [], nameOfLabel(entries, at.label));
    };
    view.onWindow = showWindow;
    view.onMeasure = (mm) => { measured.textContent = `Distance ${mm.toFixed(1)} mm`; };
    await view.load(ct.url, labels.url, WINDOW_PRESETS[preset.value as PresetName], labelColormap(entries, colourOf),
      Number(opacity.value));
    element.dataset.ready = "true";
    if (pending) moveTo(pending);
  };
  preset.addEventListener("change", () => {
    const chosen = WINDOW_PRESETS[preset.value as PresetName];
    view?.setWindow(chosen);
    showWindow(...windowRange(chosen));
  });
  opacity.addEventListener("input", () => view?.setOpacity(Number(opacity.value)));

  return {
    element,
    open() {
      element.hidden = false;
      if (view) requestAnimationFrame(() => view?.redraw());
      loading ??= load().catch((e: unknown) => {
        status.textContent = `The slices could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
        toast("The slices could not be loaded.", "error");
      });
    },
    select(name) {
      pending = name;
      // A pick made in a slice keeps the crosshair where the user clicked.
      if (name && name !== fromSlice) moveTo(name);
      fromSlice = null;
    },
    recolour() { view?.setColormap(labelColormap(entries, colourOf)); },
    dispose() { disposed = true; view?.dispose(); view = null; },
  };
}
