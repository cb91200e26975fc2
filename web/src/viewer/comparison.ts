// A comparison's report (comparison.json) read defensively, its table's order and search, the
// chart's bars and the page's view in the URL. Pure: tested without a browser.
import type { SurfaceStatus } from "./colormap";
import { structureLabel } from "./tree";

export type AlignmentQuality = "good" | "fair" | "poor";

/** How well the follow-up lies on the baseline after registration (comparison.json's
 * ``alignment`` and ``registration``). */
export interface Alignment {
  verdict: AlignmentQuality;
  message: string;
  median_dice: number | null;
  weighted_dice: number | null;
  median_residual_mm: number | null; // centroids' distance after alignment
  transform: string; // "rigid" or "affine"
  rotation_deg: number | null;
  translation_mm: [number, number, number] | null;
}

export interface DistanceSummary { mean: number; p5: number; p95: number; max_abs: number }

/** One structure of either study (comparison.json's ``structures``). */
export interface StructureChange {
  name: string;
  group: string;
  colour: string | null;
  status: SurfaceStatus;
  volume_base_ml: number | null; // null: not in that study
  volume_follow_ml: number | null;
  change_ml: number | null;
  change_percent: number | null; // null when it appeared: no percentage of nothing
  hu_mean_base: number | null;
  hu_mean_follow: number | null;
  distance_mm: DistanceSummary | null; // follow-up surface to baseline surface, + = growth
  dice: number | null;
}

export interface ComparisonReport { alignment: Alignment; structures: StructureChange[] }

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
const obj = (v: unknown): Record<string, unknown> =>
  (v !== null && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {});
/** The first of ``keys`` that ``o`` has as a finite number. */
const pick = (o: Record<string, unknown>, ...keys: string[]): number | null =>
  keys.map((k) => num(o[k])).find((v) => v !== null) ?? null;

function readStatus(raw: Record<string, unknown>, a: number | null, b: number | null): SurfaceStatus {
  const s = raw.status;
  if (s === "both" || s === "appeared" || s === "disappeared") return s;
  return !a ? "appeared" : !b ? "disappeared" : "both";
}

function readStructure(r: Record<string, unknown>): StructureChange {
  const a = pick(r, "volume_base_ml", "volume_a_ml");
  const b = pick(r, "volume_follow_ml", "volume_b_ml");
  const status = readStatus(r, a, b);
  const change = pick(r, "change_ml") ?? (a !== null || b !== null ? (b ?? 0) - (a ?? 0) : null);
  const percent = pick(r, "change_percent")
    ?? (status === "disappeared" ? -100 : status === "both" && change !== null && a ? (100 * change) / a : null);
  const d = obj(r.distance_mm);
  const dist = [d.mean, d.p5, d.p95, d.max_abs].map(num);
  return {
    name: r.name as string, group: str(r.group, "other"),
    colour: typeof r.colour === "string" && /^#[0-9a-f]{6}$/i.test(r.colour) ? r.colour : null,
    status,
    volume_base_ml: status === "appeared" ? null : a,
    volume_follow_ml: status === "disappeared" ? null : b,
    change_ml: change, change_percent: status === "appeared" ? null : percent,
    hu_mean_base: pick(r, "hu_mean_base", "mean_hu_a"), hu_mean_follow: pick(r, "hu_mean_follow", "mean_hu_b"),
    distance_mm: dist.every((v) => v !== null)
      ? { mean: dist[0]!, p5: dist[1]!, p95: dist[2]!, max_abs: dist[3]! } : null,
    dice: pick(r, "dice"),
  };
}

/** The report in ``raw`` (comparison.json, parsed); missing or malformed numbers become null, a
 * missing change is worked out from the volumes, an unknown verdict counts as poor. */
export function parseReport(raw: unknown): ComparisonReport {
  const root = obj(raw);
  const al = obj(root.alignment);
  const reg = obj(root.registration);
  const v = al.verdict ?? al.quality;
  const t = reg.translation_mm;
  const alignment: Alignment = {
    verdict: v === "good" || v === "fair" ? v : "poor",
    message: str(al.message, ""),
    median_dice: pick(al, "median_dice"),
    weighted_dice: pick(al, "weighted_dice"),
    median_residual_mm: pick(al, "median_centroid_residual_mm", "median_residual_mm"),
    transform: str(reg.transform ?? al.method, "unknown"),
    rotation_deg: pick(reg, "rotation_deg"),
    translation_mm: Array.isArray(t) && t.length === 3 && t.every((x) => typeof x === "number")
      ? [t[0] as number, t[1] as number, t[2] as number] : null,
  };
  const rows = Array.isArray(root.structures) ? root.structures : [];
  const structures = rows.map(obj).filter((r) => typeof r.name === "string").map(readStructure);
  return { alignment, structures };
}

// --- The table's order -------------------------------------------------------------------

export type ChangeKey = "magnitude" | "name" | "volume_base_ml" | "volume_follow_ml" | "change_ml"
  | "change_percent" | "hu_mean_base" | "hu_mean_follow" | "status";
export interface ChangeSort { key: ChangeKey; descending: boolean }

/** Largest change first, growth or shrinkage alike. */
export const DEFAULT_SORT: ChangeSort = { key: "magnitude", descending: true };
const TEXT_KEYS: ChangeKey[] = ["name", "status"];
const STATUS_RANK: Record<SurfaceStatus, number> = { appeared: 0, disappeared: 1, both: 2 };

function sortValue(row: StructureChange, key: ChangeKey): number | string | null {
  switch (key) {
    case "magnitude": return row.change_ml === null ? null : Math.abs(row.change_ml);
    case "name": return structureLabel(row.name).toLowerCase();
    case "status": return STATUS_RANK[row.status];
    default: return row[key];
  }
}

/** Rows in ``sort`` order; rows without a value go last either way, ties by name. */
export function sortChanges(rows: StructureChange[], sort: ChangeSort): StructureChange[] {
  const sign = sort.descending ? -1 : 1;
  const byName = (a: StructureChange, b: StructureChange): number => a.name.localeCompare(b.name);
  return [...rows].sort((a, b) => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    if (x === null || y === null) return x === y ? byName(a, b) : x === null ? 1 : -1;
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? sign * c : byName(a, b);
  });
}

/** The order after clicking the column ``key``: the same column turns round, another starts
 * with the largest numbers (or A to Z for text). */
export function nextSort(current: ChangeSort, key: ChangeKey): ChangeSort {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: !TEXT_KEYS.includes(key) };
}

export function filterChanges(rows: StructureChange[], search: string): StructureChange[] {
  const needle = search.trim().toLowerCase();
  if (!needle) return rows;
  return rows.filter((r) => structureLabel(r.name).toLowerCase().includes(needle)
    || r.name.toLowerCase().includes(needle) || r.group.toLowerCase().includes(needle));
}

// --- What is written ---------------------------------------------------------------------

export function formatSigned(value: number | null, digits: number, unit = ""): string {
  if (value === null) return "–";
  const rounded = Number(value.toFixed(digits));
  const text = Math.abs(rounded).toFixed(digits);
  return `${rounded > 0 ? "+" : rounded < 0 ? "−" : "±"}${text}${unit}`;
}

export function formatPercent(row: StructureChange): string {
  if (row.status === "appeared") return "new";
  return formatSigned(row.change_percent, 1, " %");
}

export const STATUS_LABEL: Record<SurfaceStatus, string> = {
  both: "", appeared: "Appeared", disappeared: "Disappeared",
};

export interface Verdict { level: AlignmentQuality; title: string; detail: string }

/** What the alignment banner says: a headline by verdict, then the engine's own message and
 * the registration's numbers. */
export function alignmentVerdict(a: Alignment): Verdict {
  const title = a.verdict === "good" ? "Good alignment"
    : a.verdict === "fair" ? "Fair alignment: small changes may be misalignment"
      : "Poor alignment: positions and surface distances are unreliable";
  const facts = [
    a.transform !== "unknown" ? `${a.transform} registration` : "",
    a.rotation_deg !== null ? `rotated ${a.rotation_deg.toFixed(1)}°` : "",
    a.translation_mm ? `moved ${Math.hypot(...a.translation_mm).toFixed(0)} mm` : "",
    a.median_dice !== null && !a.message ? `median Dice ${a.median_dice.toFixed(2)}` : "",
  ].filter(Boolean).join(" · ");
  const said = facts.charAt(0).toUpperCase() + facts.slice(1);
  return { level: a.verdict, title, detail: [a.message, said].filter(Boolean).join(" ") };
}

// --- The chart ---------------------------------------------------------------------------

export interface ChangeBar {
  name: string;
  label: string;
  percent: number | null; // null: appeared (no percentage of nothing)
  extent: number; // 0..1 of the half-width, the largest |change %| shown reaches 1
  sign: -1 | 0 | 1;
  text: string;
}

/** Bars of change % per structure (in the rows' order); appeared ones reach the end, red. */
export function changeBars(rows: StructureChange[]): ChangeBar[] {
  const finite = rows.map((r) => r.change_percent).filter((p): p is number => p !== null);
  const max = Math.max(1, ...finite.map(Math.abs));
  return rows.map((r) => {
    const p = r.status === "appeared" ? null : r.change_percent;
    const sign = r.status === "appeared" ? 1 : p === null || p === 0 ? 0 : p > 0 ? 1 : -1;
    return {
      name: r.name, label: structureLabel(r.name), percent: p,
      extent: r.status === "appeared" ? 1 : p === null ? 0 : Math.min(1, Math.abs(p) / max),
      sign, text: formatPercent(r),
    };
  });
}

// --- The view in the URL -----------------------------------------------------------------

export type CompareMode = "side" | "overlay";

export interface CompareView {
  mode: CompareMode;
  selected: string | null;
  sort: ChangeSort;
  search: string;
  range: number | null; // the colour scale's ± mm, null: from the data
  camera: { position: [number, number, number]; target: [number, number, number] } | null;
}

export const DEFAULT_VIEW: CompareView = {
  mode: "side", selected: null, sort: DEFAULT_SORT, search: "", range: null, camera: null,
};

const KEYS: ChangeKey[] = ["magnitude", "name", "volume_base_ml", "volume_follow_ml", "change_ml",
  "change_percent", "hu_mean_base", "hu_mean_follow", "status"];
const round = (v: number): string => String(Math.round(v * 10000) / 10000);

export function encodeCompareView(view: CompareView): URLSearchParams {
  const q = new URLSearchParams();
  if (view.mode !== "side") q.set("mode", view.mode);
  if (view.selected) q.set("sel", view.selected);
  if (view.sort.key !== DEFAULT_SORT.key || view.sort.descending !== DEFAULT_SORT.descending) {
    q.set("sort", `${view.sort.key},${view.sort.descending ? "desc" : "asc"}`);
  }
  if (view.search) q.set("q", view.search);
  if (view.range !== null) q.set("range", round(view.range));
  if (view.camera) q.set("cam", [...view.camera.position, ...view.camera.target].map(round).join(","));
  return q;
}

/** The view in ``query``; anything malformed falls back to the default. */
export function decodeCompareView(query: URLSearchParams | string): CompareView {
  const q = typeof query === "string" ? new URLSearchParams(query) : query;
  const sel = q.get("sel");
  const [key, dir] = (q.get("sort") ?? "").split(",");
  const range = Number(q.get("range"));
  const cam = (q.get("cam") ?? "").split(",").map(Number);
  return {
    mode: q.get("mode") === "overlay" ? "overlay" : "side",
    selected: sel && /^[\w.-]+$/.test(sel) ? sel : null,
    sort: KEYS.includes(key as ChangeKey) && (dir === "asc" || dir === "desc")
      ? { key: key as ChangeKey, descending: dir === "desc" } : DEFAULT_SORT,
    search: (q.get("q") ?? "").slice(0, 100),
    range: q.has("range") && range > 0 && Number.isFinite(range) ? range : null,
    camera: cam.length === 6 && cam.every(Number.isFinite)
      ? { position: [cam[0]!, cam[1]!, cam[2]!], target: [cam[3]!, cam[4]!, cam[5]!] } : null,
  };
}
