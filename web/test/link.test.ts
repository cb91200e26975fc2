import { describe, expect, it } from "vitest";
import { linkViews, type Linkable } from "../src/viewer/link";

// A view that, like OrbitControls, reports a change whenever its pose is set.
class View implements Linkable<number[]> {
  state = [0, 0, 0];
  sets = 0;
  onChange: () => void = () => undefined;
  pose(): number[] { return [...this.state]; }
  setPose(p: number[]): void { this.sets++; this.state = [...p]; this.onChange(); }
  move(p: number[]): void { this.state = [...p]; this.onChange(); }
}

describe("linked cameras", () => {
  it("gives every other view the pose of the one that moved, without echoing back", () => {
    const views = [new View(), new View(), new View()];
    const moved = linkViews(views);
    views.forEach((v, i) => { v.onChange = () => moved(i); });
    views[0]!.move([1, 2, 3]);
    expect(views.map((v) => v.state)).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    expect(views.map((v) => v.sets)).toEqual([0, 1, 1]);
    views[2]!.move([4, 5, 6]);
    expect(views.map((v) => v.state)).toEqual([[4, 5, 6], [4, 5, 6], [4, 5, 6]]);
    expect(views.map((v) => v.sets)).toEqual([1, 2, 1]);
  });

  it("keeps working after a view throws", () => {
    const good = new View();
    const bad = new View();
    bad.setPose = () => { throw new Error("lost context"); };
    const moved = linkViews([good, bad]);
    expect(() => moved(0)).toThrow("lost context");
    good.state = [9, 9, 9];
    bad.setPose = (p) => { bad.state = p; };
    moved(0);
    expect(bad.state).toEqual([9, 9, 9]);
  });
});
