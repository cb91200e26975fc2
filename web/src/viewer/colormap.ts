// Surface change as colour: a diverging map symmetric around 0 mm (blue shrink, white none, red
// growth), its range and the colour bar's ticks. Pure, so it is tested without WebGL.

export type RGB = [number, number, number]; // sRGB, each 0..1

const hex = (s: string): RGB =>
  [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16) / 255) as RGB;

// ColorBrewer RdBu (5 classes), reversed so that growth is red.
const STOPS: [number, RGB][] = [
  [-1, hex("#2166ac")], [-0.5, hex("#67a9cf")], [0, hex("#f7f7f7")], [0.5, hex("#ef8a62")],
  [1, hex("#b2182b")],
];

/** Where no distance is known (a vertex with NaN): neutral grey, distinct from "no change". */
export const NO_DATA: RGB = hex("#8c8c8c");
/** The colours at either end: what a structure that appeared or disappeared is drawn in. */
export const GROWTH = STOPS[STOPS.length - 1]![1];
export const SHRINK = STOPS[0]![1];

/** The colour of ``value`` mm on a scale from ``-limit`` (blue) through 0 (white) to ``+limit``. */
export function divergingColour(value: number, limit: number): RGB {
  if (!Number.isFinite(value)) return NO_DATA;
  const t = Math.min(1, Math.max(-1, value / Math.max(limit, 1e-6)));
  for (let i = 1; i < STOPS.length; i++) {
    const [t1, c1] = STOPS[i]!;
    if (t <= t1) {
      const [t0, c0] = STOPS[i - 1]!;
      const f = (t - t0) / (t1 - t0);
      return [0, 1, 2].map((k) => c0[k]! + f * (c1[k]! - c0[k]!)) as RGB;
    }
  }
  return GROWTH;
}

export type SurfaceStatus = "both" | "appeared" | "disappeared";

/** sRGB to linear light (what WebGL vertex colours are in three.js). */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** RGB triples for each vertex's signed distance (sRGB, or linear when ``linear``); a structure
 * that appeared is growth everywhere, whatever its distances say (there was nothing to measure
 * them from), one that disappeared shrinkage. */
export function colourDistances(
  distances: ArrayLike<number>, limit: number, status: SurfaceStatus = "both", linear = false,
): Float32Array {
  const out = new Float32Array(distances.length * 3);
  for (let i = 0; i < distances.length; i++) {
    const c = status === "appeared" ? GROWTH
      : status === "disappeared" ? SHRINK : divergingColour(distances[i]!, limit);
    for (let k = 0; k < 3; k++) out[3 * i + k] = linear ? srgbToLinear(c[k]!) : c[k]!;
  }
  return out;
}

/** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least ``x`` (> 0). */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-9)) return m * p;
  return 10 * p;
}

/** A symmetric range for the scale: the ``quantile`` of |distance| over every finite value,
 * rounded up to a nice number, so that a few outliers do not wash every other vertex out. */
export function symmetricLimit(arrays: ArrayLike<number>[], quantile = 0.95): number {
  let n = 0;
  for (const a of arrays) n += a.length;
  const all = new Float32Array(n);
  let k = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]!);
      if (Number.isFinite(v)) all[k++] = v;
    }
  }
  if (k === 0) return 1;
  const values = all.subarray(0, k).sort();
  const q = values[Math.min(k - 1, Math.floor(quantile * (k - 1) + 0.5))]!;
  return niceCeil(Math.max(q, 0.5));
}

export interface Tick { value: number; at: number; label: string } // at: 0 (left) .. 1 (right)

const tickLabel = (v: number): string => {
  const text = String(Math.round(Math.abs(v) * 100) / 100);
  return v === 0 ? "0" : `${v > 0 ? "+" : "−"}${text}`;
};

/** Ticks for a bar from ``-limit`` to ``+limit`` mm: both ends, 0, and round steps between. */
export function colourBarTicks(limit: number): Tick[] {
  const L = limit > 0 && Number.isFinite(limit) ? limit : 1;
  // About two steps each side; a round tick closer than half a step to an end is left out.
  const step = niceCeil(L / 2.5);
  const values = new Set<number>([-L, 0, L]);
  for (let v = step; v < L - 0.5 * step; v += step) {
    const r = Math.round(v / step) * step;
    values.add(r); values.add(-r);
  }
  return [...values].sort((a, b) => a - b)
    .map((value) => ({ value, at: (value + L) / (2 * L), label: tickLabel(value) }));
}

/** The bar's CSS gradient, left (shrink) to right (growth). */
export function cssGradient(): string {
  const css = (c: RGB): string => `rgb(${c.map((v) => Math.round(v * 255)).join(",")})`;
  return `linear-gradient(to right, ${STOPS.map(([t, c]) => `${css(c)} ${((t + 1) * 50).toFixed(0)}%`).join(", ")})`;
}
