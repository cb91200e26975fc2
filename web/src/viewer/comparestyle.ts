// What the comparison's views show for a mode and a selection: every structure's style, the
// notes on a view that cannot show the selected structure, and the selection's summary line.
import { h } from "../ui/dom";
import { SHRINK, type SurfaceStatus } from "./colormap";
import { formatPercent, formatSigned, type CompareMode, type StructureChange } from "./comparison";
import type { LoadedModel } from "./model";
import type { AnatomyScene } from "./scene";
import { DEFAULT_OPACITY, structureLabel, type StructureStyle } from "./tree";

const GHOST = "#c9d1dc";
const hex = (c: readonly number[]): string => `#${c.map((v) => Math.round(v * 255).toString(16).padStart(2, "0")).join("")}`;

export interface StyleContext {
  mode: CompareMode;
  selected: string | null; // null: every structure is shown
  painted: boolean; // the follow-up is coloured by change
  statusOf(name: string): SurfaceStatus;
}

/** The two studies' models: ``ghost`` is the baseline again, drawn under the overlay. */
export interface ComparedModels { a: LoadedModel; b: LoadedModel; ghost: LoadedModel | null }

const shown = (c: StyleContext, name: string): boolean => c.selected === null || c.selected === name;

function style(c: StyleContext, name: string, colour: string): StructureStyle {
  return { visible: true, colour, opacity: c.selected === name ? 1 : (DEFAULT_OPACITY[name] ?? 1) };
}

const colourOf = (model: LoadedModel, name: string): string =>
  model.structures.find((s) => s.name === name)?.colour ?? "#cccccc";

/** The baseline under the overlay: faint grey, and what disappeared in blue. */
function ghostStyle(c: StyleContext, name: string): StructureStyle {
  const lost = c.statusOf(name) === "disappeared";
  const faint = (DEFAULT_OPACITY[name] ?? 1) < 1 ? 0.05 : lost ? 0.55 : 0.2;
  return { visible: true, colour: lost ? hex(SHRINK) : GHOST, opacity: faint };
}

/** Styles the baseline in ``before``, the follow-up (and the ghost) in ``after``. */
export function styleModels(before: AnatomyScene, after: AnatomyScene, m: ComparedModels, c: StyleContext): void {
  for (const name of m.a.meshes.keys()) before.applyStyle(name, style(c, name, colourOf(m.a, name)), shown(c, name), false, m.a);
  // Painted by change, the vertices carry the colour; the material's multiplies it, so white.
  for (const name of m.b.meshes.keys()) {
    after.applyStyle(name, style(c, name, c.painted ? "#ffffff" : colourOf(m.b, name)), shown(c, name), false, m.b);
  }
  for (const name of m.ghost?.meshes.keys() ?? []) {
    after.applyStyle(name, ghostStyle(c, name), c.mode === "overlay" && shown(c, name), false, m.ghost);
  }
}

export interface ViewNote { text: string; hidden: boolean }

/** The note on each view, shown when the selected structure (``row``) is not in its study. */
export function viewNotes(row: StructureChange | undefined, mode: CompareMode): { before: ViewNote; after: ViewNote } {
  return {
    before: { text: "Not in the baseline: it appeared", hidden: !(row?.status === "appeared" && mode === "side") },
    after: {
      text: mode === "overlay" ? "Not in the follow-up: it disappeared (blue, from the baseline)"
        : "Not in the follow-up: it disappeared",
      hidden: row?.status !== "disappeared",
    },
  };
}

/** One line on how ``r`` changed: volumes, surface distance, overlap. */
export function describeChange(r: StructureChange): (Node | string)[] {
  const v = (x: number | null): string => (x === null ? "—" : `${x.toFixed(1)} mL`);
  const d = r.distance_mm;
  return [h("strong", {}, structureLabel(r.name)),
    ` · ${v(r.volume_base_ml)} → ${v(r.volume_follow_ml)} (${formatSigned(r.change_ml, 1, " mL")}, ${formatPercent(r)})`,
    d ? ` · surface moved ${formatSigned(d.mean, 1, " mm")} on average (5–95 %: ${formatSigned(d.p5, 1)} to ${formatSigned(d.p95, 1)} mm)` : "",
    r.dice !== null ? ` · overlap (Dice) ${r.dice.toFixed(2)}` : ""];
}
