// A tiny element builder: the app has few pages and needs no framework.

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Attrs = {}, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "style") {
      // Through the CSSOM: the Content-Security-Policy forbids style attributes, not this.
      el.style.cssText = String(value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function toast(message: string, kind: "error" | "info" = "info"): void {
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  document.body.append(el);
  setTimeout(() => el.remove(), 6000);
}

/** Makes ``parent``'s children exactly ``wanted`` (nulls skipped) while moving none that stays:
 * a node taken out and put back loses focus, selection and scroll, so only what changed moves. */
export function syncChildren(parent: Node, wanted: (Node | null | false)[]): void {
  const nodes = wanted.filter((n): n is Node => !!n);
  const keep = new Set(nodes);
  for (const child of [...parent.childNodes]) if (!keep.has(child)) child.remove();
  nodes.forEach((node, i) => {
    const here = parent.childNodes[i] ?? null;
    if (here !== node) parent.insertBefore(node, here);
  });
}

/** Sets ``el``'s text, leaving it untouched when it already reads so (no needless announcement). */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Sets or removes (``null``/``false``) attributes, touching only those that differ. */
export function setAttrs(el: Element, attrs: Record<string, string | boolean | null>): void {
  for (const [key, value] of Object.entries(attrs)) {
    const text = value === true ? "" : value === false || value === null ? null : value;
    if (text === null) { if (el.hasAttribute(key)) el.removeAttribute(key); }
    else if (el.getAttribute(key) !== text) el.setAttribute(key, text);
  }
}
