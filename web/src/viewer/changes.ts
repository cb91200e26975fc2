// The comparison's table (sortable, searchable) and its chart of change per structure.
import { h } from "../ui/dom";
import { cssGradient, GROWTH, SHRINK, type RGB } from "./colormap";
import {
  changeBars, filterChanges, formatPercent, formatSigned, nextSort, sortChanges, STATUS_LABEL,
  type ChangeKey, type ChangeSort, type StructureChange,
} from "./comparison";
import { structureLabel } from "./tree";

const COLUMNS: [ChangeKey, string, string][] = [
  ["name", "Structure", "Structure name; a badge says when it is in one study only"],
  ["volume_base_ml", "Before", "Volume in the baseline study (mL)"],
  ["volume_follow_ml", "After", "Volume in the follow-up study (mL)"],
  ["change_ml", "mL", "Change in volume, after minus before (mL)"],
  ["change_percent", "%", "Change in volume, percent of before"],
  ["hu_mean_base", "Before", "Mean attenuation in the baseline (HU)"],
  ["hu_mean_follow", "After", "Mean attenuation in the follow-up (HU)"],
];
// Headings over the columns above (label, how many columns).
const GROUPS: [string, number][] = [["", 1], ["Volume (mL)", 2], ["Change", 2], ["Mean HU", 2]];

const rgb = (c: RGB): string => `rgb(${c.map((v) => Math.round(v * 255)).join(",")})`;
const fixed = (v: number | null, digits: number): string => (v === null ? "–" : v.toFixed(digits));

export interface ChangesView {
  element: HTMLElement;
  /** Draws again in this order, search and selection. */
  update(sort: ChangeSort, search: string, selected: string | null): void;
}

/** The table and chart of ``rows``; ``onSort`` is told the order a header click asks for,
 * ``onPick`` the structure a row or bar was clicked for (null: the selected one again). */
export function changesView(
  rows: StructureChange[], onSort: (sort: ChangeSort) => void, onPick: (name: string | null) => void,
): ChangesView {
  const table = h("table", { class: "stats changes", "aria-label": "Change per structure" });
  const chart = h("div", { class: "change-chart", role: "list", "aria-label": "Change in volume (%) per structure" });
  const count = h("p", { class: "muted small", role: "status" });
  let current: { sort: ChangeSort; selected: string | null } = { sort: { key: "magnitude", descending: true }, selected: null };

  const header = (sort: ChangeSort): HTMLElement => h("tr", {}, ...COLUMNS.map(([key, label, title]) => {
    const on = sort.key === key;
    const button = h("button", { type: "button", class: "sort", title, "data-sort": key },
      label, on ? (sort.descending ? " ▾" : " ▴") : "");
    button.addEventListener("click", () => onSort(nextSort(current.sort, key)));
    return h("th", { scope: "col", "aria-sort": on ? (sort.descending ? "descending" : "ascending") : "none",
      class: key === "name" ? "" : "num" }, button);
  }));

  const row = (r: StructureChange, selected: boolean): HTMLElement => {
    const name = h("button", { type: "button", class: "link", title: `Show only ${structureLabel(r.name)} in 3D` },
      r.colour ? h("span", { class: "swatch", style: `background:${r.colour}` }) : null, structureLabel(r.name));
    name.addEventListener("click", () => onPick(selected ? null : r.name));
    const badge = r.status === "both" ? null
      : h("span", { class: `badge ${r.status}`, "data-status": r.status }, STATUS_LABEL[r.status]);
    const sign = (r.change_ml ?? 0) > 0 ? "up" : (r.change_ml ?? 0) < 0 ? "down" : "";
    const tr = h("tr", { "data-structure": r.name, class: selected ? "selected" : "" },
      h("td", {}, name, badge),
      h("td", { class: "num" }, fixed(r.volume_base_ml, 1)),
      h("td", { class: "num" }, fixed(r.volume_follow_ml, 1)),
      h("td", { class: `num ${sign}` }, formatSigned(r.change_ml, 1)),
      h("td", { class: `num ${sign}`, "data-column": "change_percent" }, formatPercent(r)),
      h("td", { class: "num" }, fixed(r.hu_mean_base, 0)),
      h("td", { class: "num" }, fixed(r.hu_mean_follow, 0)));
    tr.addEventListener("click", (e) => { if (e.target === tr || (e.target as Element).tagName === "TD") name.click(); });
    return tr;
  };

  const bars = (shown: StructureChange[], selected: string | null): HTMLElement[] =>
    changeBars(shown).map((b) => {
      const colour = b.sign > 0 ? rgb(GROWTH) : rgb(SHRINK);
      const width = `${(b.extent * 50).toFixed(2)}%`;
      const style = b.sign >= 0 ? `left:50%;width:${width};background:${colour}`
        : `right:50%;width:${width};background:${colour}`;
      const item = h("button", { type: "button", role: "listitem", class: `chart-row${b.name === selected ? " selected" : ""}`,
        "data-structure": b.name, title: `${b.label}: ${b.text}` },
        h("span", { class: "bar-label" }, b.label),
        h("span", { class: "chart-track" }, h("span", { class: "chart-zero" }),
          b.sign !== 0 ? h("span", { class: "chart-bar", style }) : null),
        h("span", { class: "num" }, b.text));
      item.addEventListener("click", () => onPick(b.name === selected ? null : b.name));
      return item;
    });

  const tablePanel = h("div", { class: "table-wrap", id: "changes-table", role: "tabpanel" }, table);
  const chartPanel = h("div", { id: "changes-chart", role: "tabpanel", hidden: true },
    h("div", { class: "chart-legend muted small" }, "Change in volume (%): ",
      h("span", { class: "legend-swatch", style: `background:${rgb(SHRINK)}` }), " shrank ",
      h("span", { class: "legend-swatch", style: `background:${rgb(GROWTH)}` }), " grew (new: full bar)"),
    chart);
  const tabs = (["Table", "Chart"] as const).map((label, i) => {
    const b = h("button", { type: "button", role: "tab", "aria-selected": i === 0 ? "true" : "false",
      "aria-controls": i === 0 ? "changes-table" : "changes-chart" }, label);
    b.addEventListener("click", () => {
      tabs.forEach((t, j) => t.setAttribute("aria-selected", String(i === j)));
      tablePanel.hidden = i !== 0;
      chartPanel.hidden = i !== 1;
    });
    return b;
  });
  return {
    element: h("div", { class: "changes-view" },
      h("div", { class: "row" }, h("nav", { class: "tabs small-tabs", role: "tablist" }, ...tabs), count),
      tablePanel, chartPanel),
    update(sort, search, selected): void {
      current = { sort, selected };
      const shown = sortChanges(filterChanges(rows, search), sort);
      count.textContent = shown.length === rows.length ? `${rows.length} structures`
        : `${shown.length} of ${rows.length} structures`;
      table.replaceChildren(h("thead", {},
        h("tr", { class: "groups" }, ...GROUPS.map(([label, span]) => h("th", { colspan: span, scope: "colgroup" }, label))),
        header(sort)),
        h("tbody", {}, ...shown.map((r) => row(r, r.name === selected))));
      chart.replaceChildren(...bars(shown, selected));
    },
  };
}

/** The colour bar for signed distances: the gradient with mm ticks under it. */
export function colourBar(): { element: HTMLElement; setTicks(ticks: { at: number; label: string }[]): void } {
  const ticks = h("div", { class: "colour-ticks" });
  const element = h("div", { class: "colour-bar", role: "img", "aria-label": "Surface change colour scale" },
    h("div", { class: "colour-bar-title small" }, h("span", {}, "◀ shrank"), h("span", {}, "Surface change (mm)"), h("span", {}, "grew ▶")),
    h("div", { class: "colour-gradient", style: `background:${cssGradient()}` }),
    ticks);
  return {
    element,
    setTicks(list): void {
      ticks.replaceChildren(...list.map((t) => h("span", { class: "tick", style: `left:${(t.at * 100).toFixed(2)}%` }, t.label)));
      element.setAttribute("aria-label", `Surface change colour scale from ${list[0]?.label ?? ""} to ${list[list.length - 1]?.label ?? ""} mm`);
    },
  };
}
