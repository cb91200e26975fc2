import { describe, expect, it } from "vitest";
import {
  colourBarTicks, colourDistances, cssGradient, divergingColour, GROWTH, NO_DATA, niceCeil, SHRINK,
  srgbToLinear, symmetricLimit,
} from "../src/viewer/colormap";

const close = (a: number[], b: number[]): void => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));

describe("the diverging colour map", () => {
  it("is white at 0, red for growth, blue for shrinkage, symmetric in strength", () => {
    const white = divergingColour(0, 5);
    expect(Math.min(...white)).toBeGreaterThan(0.95);
    const grow = divergingColour(5, 5);
    const shrink = divergingColour(-5, 5);
    close(grow, GROWTH);
    close(shrink, SHRINK);
    expect(grow[0]).toBeGreaterThan(grow[2]);
    expect(shrink[2]).toBeGreaterThan(shrink[0]);
    // Half-way either side is about as far from white as the other half-way (ColorBrewer RdBu).
    const dist = (c: number[]): number => Math.hypot(...c.map((v, i) => v - white[i]!));
    expect(Math.abs(dist(divergingColour(2.5, 5)) - dist(divergingColour(-2.5, 5)))).toBeLessThan(0.1);
  });

  it("clamps beyond the range and greys out what is not a number", () => {
    close(divergingColour(50, 5), GROWTH);
    close(divergingColour(-50, 5), SHRINK);
    expect(divergingColour(Number.NaN, 5)).toEqual(NO_DATA);
    expect(divergingColour(Number.POSITIVE_INFINITY, 5)).toEqual(NO_DATA);
    close(divergingColour(1, 0), GROWTH); // a zero range does not divide by zero
  });

  it("colours each vertex, and a structure that appeared or disappeared all over", () => {
    const out = colourDistances([0, 5, -5, Number.NaN], 5);
    expect(out).toHaveLength(12);
    close([...out.slice(3, 6)], GROWTH);
    close([...out.slice(6, 9)], SHRINK);
    close([...out.slice(9, 12)], NO_DATA);
    const appeared = colourDistances([Number.NaN, -3], 5, "appeared");
    close([...appeared.slice(0, 3)], GROWTH);
    close([...appeared.slice(3, 6)], GROWTH);
    close([...colourDistances([2], 5, "disappeared")], SHRINK);
    const linear = colourDistances([5], 5, "both", true);
    close([...linear], GROWTH.map(srgbToLinear));
  });

  it("draws the bar with the same stops", () => {
    expect(cssGradient()).toMatch(/^linear-gradient\(to right, rgb\(33,102,172\) 0%, .* rgb\(178,24,43\) 100%\)$/);
  });
});

describe("the scale's range and ticks", () => {
  it("rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect([0.7, 1, 1.2, 2.2, 3, 7, 12, 0.03].map(niceCeil)).toEqual([1, 1, 2, 2.5, 5, 10, 20, 0.05]);
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(Number.NaN)).toBe(1);
  });

  it("takes a robust symmetric range from the distances, ignoring NaN and outliers", () => {
    const values = new Float32Array(100).map((_, i) => (i % 2 ? 1 : -1) * (i / 99) * 4); // |d| up to 4
    values[7] = 300; // one outlier
    values[8] = Number.NaN;
    expect(symmetricLimit([values])).toBe(5);
    expect(symmetricLimit([])).toBe(1);
    expect(symmetricLimit([new Float32Array([0.01, -0.02])])).toBe(0.5);
  });

  it("puts ticks at both ends, at 0 and at round steps, in order across the bar", () => {
    const labels = (limit: number): string[] => colourBarTicks(limit).map((t) => t.label);
    expect(labels(10)).toEqual(["−10", "−5", "0", "+5", "+10"]);
    expect(labels(5)).toEqual(["−5", "−2", "0", "+2", "+5"]);
    expect(labels(2.5)).toEqual(["−2.5", "−1", "0", "+1", "+2.5"]);
    expect(labels(1)).toEqual(["−1", "−0.5", "0", "+0.5", "+1"]);
    const ticks = colourBarTicks(10);
    expect(ticks.map((t) => t.at)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(colourBarTicks(0).map((t) => t.value)).toEqual([-1, -0.5, 0, 0.5, 1]);
  });
});
