// The studies page's list: one card per study, each built once and then updated in place, so
// live progress never takes away focus, a half-typed new name or the scroll position.
import type { Comparison, Study } from "../api/client";
import { formatDate, h, setAttrs, setText, syncChildren } from "../ui/dom";
import { engineAndQuality, jobSummary } from "../ui/jobs";
import { comparisonItem, finished, shownComparisons } from "./comparelist";

export interface CardActions {
  open(s: Study): void;
  remove(s: Study): void;
  compare(s: Study): void;
  rename(s: Study): void;
  retry(s: Study): void;
  removeComparison(c: Comparison): void;
}

/** What a card shows besides its study. */
interface CardView {
  compared: Comparison[];
  canCompare: boolean;
  renaming: HTMLElement | undefined;
}

const button = (label: string, cls = ""): HTMLButtonElement => h("button", { type: "button", class: cls }, label);

/** One study's card. Its controls are made once and act on the study it shows now. */
export class StudyCard {
  readonly el: HTMLLIElement;
  private readonly thumb = h("div", { class: "thumb" });
  private readonly name = h("div", { class: "name" });
  private readonly made = h("div", { class: "muted small study-engine" });
  private readonly facts = h("div", { class: "muted small" });
  private readonly status = h("div", { class: "job-status" });
  private readonly progress = h("progress", { max: 100 });
  private readonly info = h("div", { class: "info" });
  private readonly open = h("a", { "data-link": true, class: "button primary" }, "Open");
  private readonly compare = button("Compare…");
  private readonly retry = button("Retry");
  private readonly rename = button("Rename", "ghost");
  private readonly del = button("Delete", "ghost danger");
  private readonly actions = h("div", { class: "actions" });
  private readonly comparisons = h("ul", { class: "comparisons" });
  private shownThumb: string | null | undefined = undefined;
  private shownComparisons = "";

  constructor(private study: Study, private readonly act: CardActions) {
    this.el = h("li", { "data-study": study.id });
    this.del.addEventListener("click", (e) => { e.stopPropagation(); act.remove(this.study); });
    this.rename.addEventListener("click", () => act.rename(this.study));
    this.compare.addEventListener("click", () => act.compare(this.study));
    this.retry.addEventListener("click", () => act.retry(this.study));
    this.comparisons.addEventListener("dblclick", (e) => e.stopPropagation());
    this.el.addEventListener("dblclick", () => { if (finished(this.study)) act.open(this.study); });
  }

  /** Shows ``study``, changing only what differs from what the card shows now. */
  update(study: Study, view: CardView): void {
    this.study = study;
    const job = study.latest_job;
    const state = job?.state ?? "none";
    const done = state === "done";
    const title = study.name || "Untitled study";
    setAttrs(this.el, { class: `study state-${state}` });
    this.showThumb(done && study.thumbnail_url ? study.thumbnail_url : null);
    setText(this.name, title);
    setText(this.made, engineAndQuality(job));
    setText(this.facts, `${formatDate(study.created_at)} · ${study.source_format} · ${study.shape.join("×")}`);
    setText(this.status, jobSummary(job));
    setAttrs(this.status, { "data-state": state });
    this.progress.value = job ? job.percent : 0;
    setAttrs(this.progress, { "aria-label": `Progress of ${study.name}` });
    syncChildren(this.info, [view.renaming ?? this.name, this.made, this.facts, this.status,
      job && !done && state !== "failed" && this.progress]);
    setAttrs(this.open, { href: `/studies/${study.id}` });
    setAttrs(this.compare, { "aria-label": `Compare ${study.name} with another study`, disabled: !view.canCompare,
      title: view.canCompare ? "Compare with another of your studies" : "Process another study to compare with" });
    setAttrs(this.retry, { "aria-label": `Retry ${study.name}` });
    setAttrs(this.rename, { "aria-label": `Rename ${title}` });
    setAttrs(this.del, { "aria-label": `Delete ${study.name}` });
    syncChildren(this.actions, [done && this.open, done && this.compare,
      (state === "failed" || state === "cancelled") && this.retry, !view.renaming && this.rename, this.del]);
    this.showComparisons(view.compared, study);
    syncChildren(this.el, [this.thumb, this.info, this.actions, view.compared.length > 0 && this.comparisons]);
  }

  private showThumb(url: string | null): void {
    if (url === this.shownThumb) return;
    this.shownThumb = url;
    this.thumb.replaceChildren(url
      ? h("img", { src: url, alt: "", loading: "lazy", width: 96, height: 96 })
      : h("div", { class: "thumb-empty", "aria-hidden": "true" }));
  }

  private showComparisons(compared: Comparison[], study: Study): void {
    const key = JSON.stringify([study.name, compared]);
    if (key === this.shownComparisons) return;
    this.shownComparisons = key;
    setAttrs(this.comparisons, { "aria-label": `Comparisons of ${study.name}` });
    this.comparisons.replaceChildren(...compared.map((c) => comparisonItem(c, this.act.removeComparison)));
  }
}

/** The cards of the studies shown, newest first, keyed by study id. */
export class StudyList {
  readonly el = h("ul", { class: "studies", "aria-live": "polite" });
  private readonly cards = new Map<string, StudyCard>();

  constructor(private readonly act: CardActions) {}

  /** Shows ``studies`` (those matching ``needle``): new cards added, gone ones removed, the
   * others updated where they differ. */
  show(studies: Iterable<Study>, comparisons: Iterable<Comparison>, renaming: Map<string, HTMLElement>,
    needle = ""): void {
    const all = [...studies];
    const compared = [...comparisons];
    const ids = new Set(all.map((s) => s.id));
    for (const id of [...this.cards.keys()]) if (!ids.has(id)) this.cards.delete(id);
    const canCompare = all.filter(finished).length > 1;
    const wanted = needle.trim().toLowerCase();
    const shown = all
      .filter((s) => !wanted || s.name.toLowerCase().includes(wanted) || s.labels.some((l) => l.toLowerCase().includes(wanted)))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    for (const study of shown) {
      let card = this.cards.get(study.id);
      if (!card) this.cards.set(study.id, card = new StudyCard(study, this.act));
      card.update(study, { compared: shownComparisons(compared, study.id), canCompare, renaming: renaming.get(study.id) });
    }
    syncChildren(this.el, shown.map((s) => this.cards.get(s.id)?.el ?? null));
  }
}
