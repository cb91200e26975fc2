// Slice views' pure logic: window presets, the label colormap and label id lookups (no NiiVue here).

export type PresetName = "soft" | "lung" | "bone";

export interface WindowPreset { label: string; width: number; level: number }

export const WINDOW_PRESETS: Record<PresetName, WindowPreset> = {
  soft: { label: "Soft tissue", width: 400, level: 40 },
  lung: { label: "Lung", width: 1500, level: -600 },
  bone: { label: "Bone", width: 1800, level: 400 },
};

/** The HU range [min, max] that a window of ``width`` centred on ``level`` shows from black to white. */
export function windowRange(preset: WindowPreset): [number, number] {
  return [preset.level - preset.width / 2, preset.level + preset.width / 2];
}

export interface LabelEntry { id: number; name: string; colour: string }

/** NiiVue's colormap shape for a label volume (R/G/B/A 0-255 per index I). */
export interface LabelColormap { R: number[]; G: number[]; B: number[]; A: number[]; I: number[]; labels: string[] }

function rgb(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  const v = m ? parseInt(m[1]!, 16) : 0xcccccc;
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** A dense colormap 0..max id: background and ids not in ``entries`` transparent; ``colourOf`` overrides
 * a structure's colour (the 3D view's current colour) so both views agree. */
export function labelColormap(entries: LabelEntry[], colourOf: (name: string) => string | undefined = () => undefined): LabelColormap {
  const top = entries.reduce((m, e) => Math.max(m, e.id), 0);
  const map: LabelColormap = { R: [], G: [], B: [], A: [], I: [], labels: [] };
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (let id = 0; id <= top; id++) {
    const e = id === 0 ? undefined : byId.get(id);
    const [r, g, b] = e ? rgb(colourOf(e.name) ?? e.colour) : [0, 0, 0];
    map.R.push(r); map.G.push(g); map.B.push(b); map.A.push(e ? 255 : 0); map.I.push(id);
    map.labels.push(e ? e.name : "");
  }
  return map;
}

/** The structure with label ``id`` (null for background or an id the table does not know). */
export function nameOfLabel(entries: LabelEntry[], id: number): string | null {
  if (!Number.isInteger(id) || id <= 0) return null;
  return entries.find((e) => e.id === id)?.name ?? null;
}

/** The label table in a ``labels.json`` sidecar ({labels: [{id, name, group, colour}]}); bad rows skipped. */
export function parseLabelTable(doc: unknown): LabelEntry[] {
  const rows = (doc as { labels?: unknown } | null)?.labels;
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((r: unknown) => {
    const o = r as Partial<LabelEntry> | null;
    return o && typeof o.id === "number" && typeof o.name === "string" && typeof o.colour === "string"
      ? [{ id: o.id, name: o.name, colour: o.colour }] : [];
  });
}

/** The window a HU range [min, max] shows, as a radiologist reads it (W and L, whole HU). */
export function windowOf(min: number, max: number): { width: number; level: number } {
  return { width: Math.round(max - min), level: Math.round((min + max) / 2) };
}

/** A RAS+ position in the patient's words: "R 12.3 · A 4.5 · S 100.2 mm" (R/L, A/P, S/I). */
export function patientPosition(mm: ArrayLike<number>): string {
  const side = (v: number, plus: string, minus: string): string =>
    `${v >= 0 ? plus : minus} ${Math.abs(v).toFixed(1)}`;
  return `${side(mm[0]!, "R", "L")} · ${side(mm[1]!, "A", "P")} · ${side(mm[2]!, "S", "I")} mm`;
}

/** Slice numbers from 1, as "axial 12/48 · coronal 30/56 · sagittal 33/64", for a voxel of a
 * RAS-ordered volume of ``dims`` (x, y, z) voxels. */
export function sliceNumbers(vox: ArrayLike<number>, dims: ArrayLike<number>): string {
  const n = (i: number): string => `${Math.round(vox[i]!) + 1}/${dims[i]!}`;
  return `axial ${n(2)} · coronal ${n(1)} · sagittal ${n(0)}`;
}

/** What the status line says about the voxel under the crosshair. */
export function describeVoxel(at: { mm: ArrayLike<number>; vox: ArrayLike<number>; hu: number },
  dims: ArrayLike<number>, structure: string | null): string {
  const parts = [patientPosition(at.mm), sliceNumbers(at.vox, dims), `${Math.round(at.hu)} HU`];
  if (structure) parts.push(structure.replaceAll("_", " "));
  return parts.join(" · ");
}
