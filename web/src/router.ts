// History-API routing: each page renders into the root and returns how to leave it.

export type Leave = () => void;
export type Page = (root: HTMLElement, params: Record<string, string>) => Leave | Promise<Leave>;

interface Route { pattern: RegExp; keys: string[]; page: Page }

export class Router {
  private routes: Route[] = [];
  private leave: Leave | null = null;
  private seq = 0;

  constructor(private root: HTMLElement) {
    window.addEventListener("popstate", () => void this.render());
    document.addEventListener("click", (e) => {
      const a = (e.target as Element | null)?.closest?.("a[data-link]");
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      this.go(a.getAttribute("href") ?? "/");
    });
  }

  add(path: string, page: Page): this {
    const keys: string[] = [];
    const source = path.replace(/:(\w+)/g, (_, k: string) => { keys.push(k); return "([^/]+)"; });
    this.routes.push({ pattern: new RegExp(`^${source}/?$`), keys, page });
    return this;
  }

  go(url: string): void {
    if (url !== location.pathname + location.search) history.pushState(null, "", url);
    void this.render();
  }

  async render(): Promise<void> {
    const seq = ++this.seq;
    this.leave?.();
    this.leave = null;
    this.root.replaceChildren();
    for (const route of this.routes) {
      const m = route.pattern.exec(location.pathname);
      if (!m) continue;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      const leave = await route.page(this.root, params);
      if (seq === this.seq) this.leave = leave; else leave();
      return;
    }
    this.go("/");
  }
}
