// The comparison's results beside the 3D: the alignment's verdict above them, then search, order,
// downloads and the change table and chart. The page keeps which structure is selected.
import { artifact, type Artifact, type Job } from "../api/client";
import { formatBytes, h } from "../ui/dom";
import { changesView } from "../viewer/changes";
import {
  alignmentVerdict, DEFAULT_SORT, type Alignment, type ChangeSort, type CompareView, type StructureChange,
} from "../viewer/comparison";

const DOWNLOADS: [Artifact["name"], string][] = [
  ["comparison_csv", "Table (CSV)"], ["comparison_json", "Everything (JSON)"],
  ["comparison_glb", "Follow-up in the baseline's frame (GLB)"],
];

/** How well the studies were aligned: a status when good, an alert otherwise. */
export function verdictBanner(alignment: Alignment): HTMLElement {
  const verdict = alignmentVerdict(alignment);
  return h("div", { class: `verdict ${verdict.level}`, "data-verdict": verdict.level,
    role: verdict.level === "good" ? "status" : "alert" },
    h("strong", {}, verdict.level === "good" ? "✓ " : "⚠ ", verdict.title), h("span", {}, verdict.detail));
}

function downloads(job: Job): HTMLElement {
  return h("div", { class: "row downloads-row" }, ...DOWNLOADS.map(([name, label]) => {
    const a = artifact(job, name);
    return a ? h("a", { href: a.url, download: a.filename, class: "button small-button", "data-artifact": name,
      title: formatBytes(a.size) }, label) : null;
  }));
}

export interface ChangesPanel {
  element: HTMLElement;
  /** The order and search chosen, for the page's URL. */
  order(): Pick<CompareView, "sort" | "search">;
  /** Draws the table and chart again with ``selected`` marked. */
  show(selected: string | null): void;
}

/** The panel for ``rows``; ``pick`` is told the structure clicked (null: the selected one again),
 * ``change`` that the order or search changed. */
export function changesPanel(
  job: Job, rows: StructureChange[], start: Pick<CompareView, "sort" | "search">,
  on: { pick(name: string | null): void; change(): void },
): ChangesPanel {
  let { sort, search } = start;
  let selected: string | null = null;
  const searchBox = h("input", { type: "search", placeholder: "Search structures", "aria-label": "Search structures", value: search });
  const resetSort = h("button", { type: "button", class: "small-button", title: "Largest change first" }, "Largest change first");
  const redraw = (): void => {
    view.update(sort, search, selected);
    resetSort.hidden = sort.key === DEFAULT_SORT.key && sort.descending === DEFAULT_SORT.descending;
  };
  const reorder = (s: ChangeSort): void => { sort = s; redraw(); on.change(); };
  const view = changesView(rows, reorder, (n) => on.pick(n));
  searchBox.addEventListener("input", () => { search = searchBox.value; redraw(); on.change(); });
  resetSort.addEventListener("click", () => reorder(DEFAULT_SORT));
  return {
    element: h("aside", { class: "changes-panel" }, h("div", { class: "row" }, searchBox, resetSort), downloads(job), view.element),
    order: () => ({ sort, search }),
    show(name): void { selected = name; redraw(); },
  };
}
