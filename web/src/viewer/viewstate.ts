// The view in the URL's query, so that a link reopens the same view.

export type ClipAxis = "axial" | "coronal" | "sagittal";

export interface ViewState {
  hidden: string[] | null; // null: the model's default (context structures off)
  solo: string | null;
  selected: string | null;
  clip: { axis: ClipAxis; at: number; flip: boolean } | null; // at: 0..1 across the model
  camera: { position: [number, number, number]; target: [number, number, number] } | null;
  opacity: Record<string, number>;
}

export const EMPTY_VIEW: ViewState = {
  hidden: null, solo: null, selected: null, clip: null, camera: null, opacity: {},
};

const AXES: ClipAxis[] = ["axial", "coronal", "sagittal"];
const round = (v: number): string => String(Math.round(v * 10000) / 10000);

function numbers(text: string | null, count: number): number[] | null {
  if (!text) return null;
  const values = text.split(",").map(Number);
  return values.length === count && values.every(Number.isFinite) ? values : null;
}

/** The query for ``view``; opacities equal to ``defaults`` (else 1) and a hidden set equal to
 * ``hiddenByDefault`` are left out (an empty ``hide=`` says "everything shown"). */
export function encodeView(view: ViewState, defaults: Record<string, number> = {},
  hiddenByDefault: string[] = []): URLSearchParams {
  const q = new URLSearchParams();
  const hidden = [...(view.hidden ?? hiddenByDefault)].sort().join(",");
  if (hidden !== [...hiddenByDefault].sort().join(",")) q.set("hide", hidden);
  if (view.solo) q.set("solo", view.solo);
  if (view.selected) q.set("sel", view.selected);
  if (view.clip) q.set("clip", `${view.clip.axis},${round(view.clip.at)}${view.clip.flip ? ",f" : ""}`);
  if (view.camera) q.set("cam", [...view.camera.position, ...view.camera.target].map(round).join(","));
  const faded = Object.entries(view.opacity).filter(([n, o]) => o !== (defaults[n] ?? 1)).sort(([a], [b]) => a.localeCompare(b));
  if (faded.length) q.set("op", faded.map(([n, o]) => `${n}:${round(o)}`).join(","));
  return q;
}

/** The view in ``query``; anything malformed is ignored rather than refused. */
export function decodeView(query: URLSearchParams | string, known?: Set<string>): ViewState {
  const q = typeof query === "string" ? new URLSearchParams(query) : query;
  const keep = (n: string): boolean => /^[\w.-]+$/.test(n) && (!known || known.has(n));
  const hidden = (q.get("hide") ?? "").split(",").filter((n) => n && keep(n));
  const solo = q.get("solo");
  const selected = q.get("sel");
  let clip: ViewState["clip"] = null;
  const clipParts = (q.get("clip") ?? "").split(",");
  const axis = clipParts[0] as ClipAxis;
  const at = Number(clipParts[1]);
  if (AXES.includes(axis) && clipParts[1] !== undefined && Number.isFinite(at)) {
    clip = { axis, at: Math.min(1, Math.max(0, at)), flip: clipParts[2] === "f" };
  }
  const cam = numbers(q.get("cam"), 6);
  const opacity: Record<string, number> = {};
  for (const pair of (q.get("op") ?? "").split(",")) {
    const [name, value] = pair.split(":");
    const o = Number(value);
    if (name && keep(name) && value !== undefined && Number.isFinite(o)) {
      opacity[name] = Math.min(1, Math.max(0, o));
    }
  }
  return {
    hidden: q.has("hide") ? [...new Set(hidden)] : null,
    solo: solo && keep(solo) ? solo : null,
    selected: selected && keep(selected) ? selected : null,
    clip,
    camera: cam ? { position: [cam[0]!, cam[1]!, cam[2]!], target: [cam[3]!, cam[4]!, cam[5]!] } : null,
    opacity,
  };
}
