// The structure tree's state, kept apart from three.js so it can be tested without WebGL.

export interface StructureInfo {
  name: string;
  group: string;
  colour: string; // "#rrggbb"
}

export interface StructureStyle {
  visible: boolean;
  colour: string;
  opacity: number; // 0..1
}

export interface TreeState {
  structures: StructureInfo[];
  styles: Record<string, StructureStyle>;
  solo: string | null;
  selected: string | null;
}

export interface GroupNode {
  group: string;
  label: string;
  members: StructureInfo[];
}

// The order a clinician reads a body: the GLB's own group order is kept for unknown groups.
const GROUP_ORDER = ["skeleton", "cardiovascular", "respiratory", "digestive", "urinary", "muscles",
  "nervous", "other"];

export function groupLabel(group: string): string {
  const text = group.replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function structureLabel(name: string): string {
  const text = name.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Context: shells that hide every organ inside them start see-through (where shown at all),
// so the first view shows what the user came for.
export const DEFAULT_OPACITY: Record<string, number> = {
  body: 0.1, skin: 0.1, subcutaneous_fat: 0.1, torso_fat: 0.1, skeletal_muscle: 0.25,
};
// Fat wraps everything in yellow layers: off until asked for.
export const DEFAULT_HIDDEN: ReadonlySet<string> = new Set(["subcutaneous_fat", "torso_fat"]);

/** Whether a structure is context (body outline, fat, muscle wall) rather than a finding. */
export function isContext(name: string): boolean {
  return name in DEFAULT_OPACITY;
}

/** The structures a model hides by default, sorted (what a link leaves out). */
export function defaultHidden(structures: StructureInfo[]): string[] {
  return structures.map((s) => s.name).filter((n) => DEFAULT_HIDDEN.has(n)).sort();
}

/** What the first view frames: everything but context, unless the model has nothing else. */
export function framedNames(structures: StructureInfo[]): string[] {
  const focus = structures.map((s) => s.name).filter((n) => !isContext(n));
  return focus.length ? focus : structures.map((s) => s.name);
}

export function initialState(structures: StructureInfo[]): TreeState {
  const styles: Record<string, StructureStyle> = {};
  for (const s of structures) {
    styles[s.name] = { visible: !DEFAULT_HIDDEN.has(s.name), colour: s.colour,
      opacity: DEFAULT_OPACITY[s.name] ?? 1 };
  }
  return { structures, styles, solo: null, selected: null };
}

/** Groups in reading order, members sorted by label, filtered by a case-insensitive search. */
export function groupTree(structures: StructureInfo[], search = ""): GroupNode[] {
  const needle = search.trim().toLowerCase();
  const byGroup = new Map<string, StructureInfo[]>();
  for (const s of structures) {
    const matches = !needle || structureLabel(s.name).toLowerCase().includes(needle)
      || s.group.toLowerCase().includes(needle);
    if (!matches) continue;
    const list = byGroup.get(s.group) ?? [];
    list.push(s);
    byGroup.set(s.group, list);
  }
  const rank = (g: string): number => {
    const i = GROUP_ORDER.indexOf(g);
    return i < 0 ? GROUP_ORDER.length : i;
  };
  return [...byGroup.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([group, members]) => ({
      group,
      label: groupLabel(group),
      members: [...members].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })),
    }));
}

/** Whether a structure is drawn: its own switch, unless another structure is solo. */
export function isShown(state: TreeState, name: string): boolean {
  if (state.solo !== null) return state.solo === name;
  return state.styles[name]?.visible ?? false;
}

function withStyle(state: TreeState, names: string[], change: Partial<StructureStyle>): TreeState {
  const styles = { ...state.styles };
  for (const name of names) {
    const current = styles[name];
    if (current) styles[name] = { ...current, ...change };
  }
  return { ...state, styles };
}

export function setVisible(state: TreeState, name: string, visible: boolean): TreeState {
  return { ...withStyle(state, [name], { visible }), solo: null };
}

export function membersOf(state: TreeState, group: string): string[] {
  return state.structures.filter((s) => s.group === group).map((s) => s.name);
}

/** A group is on when any member is on; toggling turns all of them to the opposite. */
export function groupVisible(state: TreeState, group: string): boolean {
  return membersOf(state, group).some((n) => state.styles[n]?.visible);
}

export function setGroupVisible(state: TreeState, group: string, visible: boolean): TreeState {
  return { ...withStyle(state, membersOf(state, group), { visible }), solo: null };
}

export function toggleSolo(state: TreeState, name: string): TreeState {
  return { ...state, solo: state.solo === name ? null : name };
}

export function setColour(state: TreeState, names: string[], colour: string): TreeState {
  return /^#[0-9a-f]{6}$/i.test(colour) ? withStyle(state, names, { colour }) : state;
}

export function setOpacity(state: TreeState, names: string[], opacity: number): TreeState {
  return withStyle(state, names, { opacity: Math.min(1, Math.max(0, opacity)) });
}

export function select(state: TreeState, name: string | null): TreeState {
  const known = name !== null && name in state.styles;
  return { ...state, selected: known ? name : null };
}

export function showAll(state: TreeState): TreeState {
  return { ...withStyle(state, state.structures.map((s) => s.name), { visible: true }), solo: null };
}

export function hiddenNames(state: TreeState): string[] {
  return state.structures.filter((s) => !state.styles[s.name]?.visible).map((s) => s.name);
}
