// Statistics: a sortable table and volumes by body system as bars.
import { h } from "../ui/dom";
import { groupLabel, structureLabel } from "./tree";

export interface StructureStats {
  name: string;
  group: string;
  colour: string;
  voxel_volume_ml: number;
  mesh_volume_ml: number | null;
  surface_area_mm2: number | null;
  hu_mean: number;
  hu_std: number;
  centroid_ras_mm?: [number, number, number];
}

export type SortKey = "name" | "group" | "voxel_volume_ml" | "hu_mean" | "hu_std";

export function sortStats(rows: StructureStats[], key: SortKey, descending: boolean): StructureStats[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    return sign * (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y)));
  });
}

export function volumesByGroup(rows: StructureStats[]): { group: string; ml: number }[] {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.group, (totals.get(r.group) ?? 0) + r.voxel_volume_ml);
  return [...totals.entries()].map(([group, ml]) => ({ group, ml })).sort((a, b) => b.ml - a.ml);
}

// Optional columns step aside on a phone (styles.css): the bars above already sum by system.
const COLUMNS: [SortKey, string, boolean][] = [
  ["name", "Structure", false], ["group", "System", true], ["voxel_volume_ml", "Volume (mL)", false],
  ["hu_mean", "Mean HU", false], ["hu_std", "HU SD", true],
];

export function statsView(rows: StructureStats[], onPick: (name: string) => void): HTMLElement {
  let key: SortKey = "voxel_volume_ml";
  let descending = true;
  const table = h("table", { class: "stats" });
  const draw = (): void => {
    const head = h("tr", {}, ...COLUMNS.map(([k, label, optional]) => {
      const button = h("button", { type: "button", class: "sort" }, label,
        k === key ? (descending ? " ▾" : " ▴") : "");
      button.addEventListener("click", () => {
        descending = k === key ? !descending : k !== "name" && k !== "group";
        key = k;
        draw();
      });
      return h("th", { scope: "col", class: optional ? "optional" : undefined,
        "aria-sort": k === key ? (descending ? "descending" : "ascending") : "none" }, button);
    }));
    const body = sortStats(rows, key, descending).map((r) => {
      const name = h("button", { type: "button", class: "link" },
        h("span", { class: "swatch", style: `background:${r.colour}` }), structureLabel(r.name));
      name.addEventListener("click", () => onPick(r.name));
      return h("tr", {}, h("td", {}, name), h("td", { class: "optional" }, groupLabel(r.group)),
        h("td", { class: "num" }, r.voxel_volume_ml.toFixed(1)),
        h("td", { class: "num" }, r.hu_mean.toFixed(0)), h("td", { class: "num optional" }, r.hu_std.toFixed(0)));
    });
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
  };
  draw();
  const groups = volumesByGroup(rows);
  const max = Math.max(1, ...groups.map((g) => g.ml));
  const chart = h("div", { class: "bars", role: "img", "aria-label": "Volume by body system" },
    ...groups.map((g) => h("div", { class: "bar-row" },
      h("span", { class: "bar-label" }, groupLabel(g.group)),
      h("span", { class: "bar-track" }, h("span", { class: "bar", style: `width:${(100 * g.ml) / max}%` })),
      h("span", { class: "num" }, `${g.ml.toFixed(0)} mL`))));
  return h("div", { class: "stats-view" },
    h("h3", {}, "Volume by body system"), chart,
    h("h3", {}, "Structures"), h("div", { class: "table-wrap" }, table));
}
