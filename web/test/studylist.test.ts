// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Study } from "../src/api/client";
import { StudyList, type CardActions } from "../src/pages/studylist";
import { comparison, job, study } from "./support/fakes";

const actions = (): CardActions => ({
  open: vi.fn(), remove: vi.fn(), compare: vi.fn(), rename: vi.fn(), retry: vi.fn(), removeComparison: vi.fn(),
});
const older = study({ id: "s1", name: "Chest", created_at: "2026-01-01T10:00:00Z", latest_job: job({ study_id: "s1" }) });
const newer = study({ id: "s2", name: "Abdomen", created_at: "2026-01-02T10:00:00Z",
  latest_job: job({ id: "job-2", study_id: "s2", state: "done", stage: "done", percent: 100 }) });

function mounted(act = actions()): { list: StudyList; show: (...s: Study[]) => void } {
  const list = new StudyList(act);
  document.body.replaceChildren(list.el);
  return { list, show: (...s) => list.show(s, [], new Map()) };
}
const card = (id: string): HTMLElement => {
  const el = document.querySelector<HTMLElement>(`[data-study="${id}"]`);
  if (!el) throw new Error(`no card for ${id}`);
  return el;
};
const byLabel = (label: string): HTMLElement => {
  const el = document.querySelector<HTMLElement>(`[aria-label="${label}"]`);
  if (!el) throw new Error(`nothing labelled ${label}`);
  return el;
};

afterEach(() => document.body.replaceChildren());

describe("the studies list", () => {
  it("shows the newest study first, with what its job is doing", () => {
    const { show } = mounted();
    show(older, newer);
    expect([...document.querySelectorAll(".study")].map((e) => e.getAttribute("data-study"))).toEqual(["s2", "s1"]);
    expect(card("s1").querySelector(".job-status")?.textContent).toBe("Segmenting 40%");
    expect(card("s1").querySelector("progress")?.value).toBe(40);
    expect(card("s2").querySelector("progress")).toBeNull(); // done: no progress bar, an Open link
    expect(card("s2").querySelector("a.button")?.getAttribute("href")).toBe("/studies/s2");
    expect(card("s1").querySelector("a.button")).toBeNull();
  });

  it("updates a card in place: the same elements, focus kept", () => {
    const { show } = mounted();
    show(older, newer);
    const before = card("s1");
    const other = card("s2");
    const del = byLabel("Delete Chest");
    del.focus();
    show(study({ ...older, latest_job: job({ study_id: "s1", stage: "mesh", percent: 70 }) }), newer);
    expect(card("s1")).toBe(before);
    expect(card("s2")).toBe(other);
    expect(document.activeElement).toBe(del);
    expect(before.querySelector(".job-status")?.textContent).toBe("Building surfaces 70%");
    expect(before.querySelector("progress")?.value).toBe(70);
  });

  it("acts on the study a card shows now, not the one it was made for", () => {
    const act = actions();
    const { show } = mounted(act);
    show(older);
    const failed = study({ ...older, name: "Renamed", latest_job: job({ id: "job-9", state: "failed", error: "x" }) });
    show(failed);
    byLabel("Retry Renamed").click();
    expect(act.retry).toHaveBeenCalledWith(failed);
    byLabel("Delete Renamed").click();
    expect(act.remove).toHaveBeenCalledWith(failed);
    expect(card("s1").querySelector("progress")).toBeNull();
  });

  it("adds new cards and removes deleted ones, leaving the rest alone", () => {
    const { show } = mounted();
    show(older);
    const kept = card("s1");
    show(older, newer);
    expect(card("s1")).toBe(kept);
    expect(document.querySelectorAll(".study")).toHaveLength(2);
    show(newer);
    expect(document.querySelector('[data-study="s1"]')).toBeNull();
    expect(document.querySelectorAll(".study")).toHaveLength(1);
  });

  it("keeps a rename form, and what is typed in it, through updates", () => {
    const { list } = mounted();
    const form = document.createElement("form");
    const input = document.createElement("input");
    form.append(input);
    const renaming = new Map([["s1", form]]);
    list.show([older], [], renaming);
    input.focus();
    input.value = "New na";
    list.show([study({ ...older, latest_job: job({ percent: 90 }) })], [], renaming);
    expect(document.activeElement).toBe(input);
    expect(input.value).toBe("New na");
    expect(card("s1").querySelector('[aria-label^="Rename"]')).toBeNull(); // the form replaces the button
    list.show([older], [], new Map());
    expect(card("s1").querySelector(".name")?.textContent).toBe("Chest");
  });

  it("filters by name or label, and offers Compare only with two finished studies", () => {
    const { list } = mounted();
    const third = study({ ...newer, id: "s3", name: "Knee", labels: ["follow-up"] });
    list.show([older, newer, third], [], new Map(), "FOLLOW");
    expect([...document.querySelectorAll(".study")].map((e) => e.getAttribute("data-study"))).toEqual(["s3"]);
    expect(byLabel("Compare Knee with another study").hasAttribute("disabled")).toBe(false);
    list.show([older, newer], [], new Map());
    expect(byLabel("Compare Abdomen with another study").hasAttribute("disabled")).toBe(true);
  });

  it("lists a study's comparisons under its card", () => {
    const { list } = mounted();
    list.show([older, newer], [comparison(older, newer)], new Map());
    expect(card("s1").querySelector('ul[aria-label="Comparisons of Chest"]')).not.toBeNull();
    expect(card("s2").querySelector("ul.comparisons")).not.toBeNull();
    list.show([older, newer], [], new Map());
    expect(card("s1").querySelector("ul.comparisons")).toBeNull();
  });
});
