// Your account: quotas and their use, password change, sessions and API tokens, sign out
// everywhere.
import { api, describe, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { formatBytes, formatDate, h, toast } from "../ui/dom";
import { currentUser, topBar } from "../ui/shell";
import { loadProviders, providerLinks } from "./providers";
import { receivingSection } from "./receiving";
import type { Leave } from "../router";
import { signInUrl } from "../ui/returnto";

type Quota = components["schemas"]["Quota"];
type Token = components["schemas"]["TokenPublic"];

const QUOTA_NAMES: Record<string, string> = {
  stored_bytes: "Stored data",
  studies: "Studies",
  open_uploads: "Unfinished uploads",
  upload_bytes: "Reserved by unfinished uploads",
  queued_jobs: "Queued or running jobs",
};

function amount(q: Quota, value: number): string {
  return q.name.endsWith("bytes") ? formatBytes(value) : String(value);
}

function quotaTable(quotas: Quota[]): HTMLElement {
  return h("table", { class: "stats quotas" },
    h("thead", {}, h("tr", {}, h("th", {}, "Limit"), h("th", { class: "num" }, "Used"),
      h("th", { class: "num" }, "Allowed"))),
    h("tbody", {}, ...quotas.map((q) => h("tr", { "data-quota": q.name },
      h("td", {}, QUOTA_NAMES[q.name] ?? q.name),
      h("td", { class: "num" }, amount(q, q.used)),
      h("td", { class: "num" }, amount(q, q.limit))))));
}

function passwordForm(): HTMLElement {
  const current = h("input", { type: "password", id: "current-password", autocomplete: "current-password",
    required: true });
  const fresh = h("input", { type: "password", id: "new-password", autocomplete: "new-password",
    required: true, minlength: 8 });
  const status = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "field", id: "password-form" },
    h("label", { for: "current-password" }, "Current password"), current,
    h("label", { for: "new-password" }, "New password ", h("span", { class: "muted" }, "(8 characters or more)")),
    fresh, status, h("button", { type: "submit", class: "primary" }, "Change password"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      const changed = await api.POST("/api/auth/password", {
        body: { current_password: current.value, new_password: fresh.value },
      });
      if (!changed.response.ok) { status.textContent = describe(changed.response.status, changed.error); return; }
      status.textContent = "";
      current.value = fresh.value = "";
      toast("Password changed; every other session has been signed out.");
    })();
  });
  return form;
}

function tokenRow(t: Token, refresh: () => void): HTMLElement {
  const revoke = h("button", { type: "button", class: "ghost danger small-button",
    "aria-label": `Revoke ${t.name || t.kind}` }, t.current ? "Sign out" : "Revoke");
  revoke.addEventListener("click", () => {
    void api.DELETE("/api/auth/tokens/{token_id}", { params: { path: { token_id: t.id } } })
      .then((r) => { if (!r.response.ok) toast(describe(r.response.status, r.error), "error"); refresh(); });
  });
  return h("tr", { "data-token": t.id },
    h("td", {}, t.kind === "api" ? `API token “${t.name}”` : t.kind === "dicom" ? `Receive token “${t.name}”`
      : t.current ? "This session" : "Session"),
    h("td", {}, formatDate(t.created_at)),
    h("td", {}, t.last_used_at ? formatDate(t.last_used_at) : "—"),
    h("td", {}, formatDate(t.expires_at)), h("td", {}, revoke));
}

export function accountPage(go: (url: string) => void) {
  return async (root: HTMLElement): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go(signInUrl()); return () => undefined; }
    const quotas = h("div", {});
    const tokens = h("tbody", {});
    const secret = h("p", { class: "muted", id: "new-token" });
    const refresh = (): void => {
      void (async () => {
        try {
          quotas.replaceChildren(quotaTable(unwrap(await api.GET("/api/auth/quotas")).items));
          const listed = unwrap(await api.GET("/api/auth/tokens")).items;
          if (!listed.some((t) => t.current)) { go("/signin"); return; }
          tokens.replaceChildren(...listed.map((t) => tokenRow(t, refresh)));
        } catch (e) { toast(e instanceof Error ? e.message : String(e), "error"); }
      })();
    };
    const name = h("input", { id: "token-name", placeholder: "What it is for", maxlength: 100, required: true });
    const make = h("form", { class: "row", id: "token-form" }, name,
      h("button", { type: "submit" }, "New API token"));
    make.addEventListener("submit", (e) => {
      e.preventDefault();
      void (async () => {
        const made = await api.POST("/api/auth/tokens", { body: { name: name.value.trim() } });
        if (!made.response.ok || !made.data) { toast(describe(made.response.status, made.error), "error"); return; }
        secret.textContent = `Copy it now, it is shown only once: ${made.data.secret}`;
        name.value = "";
        refresh();
      })();
    });
    const everywhere = h("button", { type: "button", class: "danger", id: "signout-everywhere" },
      "Sign out everywhere");
    everywhere.addEventListener("click", () => {
      void api.POST("/api/auth/signout-everywhere").finally(() => go("/signin"));
    });
    // Linking an institution's account lets it sign in here too (nothing shown without one).
    const linked = h("section", { class: "panel", id: "sign-in-with", hidden: true },
      h("h2", {}, "Sign-in with your institution"),
      h("p", { class: "muted" }, "Link your account there, then sign in with either."));
    void loadProviders().then((offered) => {
      const links = providerLinks(offered, "link");
      if (links.length === 0) return;
      linked.append(...links.map((l) => h("a", { class: "button provider", href: l.href }, l.label)));
      linked.hidden = false;
    });
    root.append(topBar(user, go, h("span", { class: "crumb" }, "Account")),
      h("main", { class: "tab-panel account" },
        h("section", { class: "panel" }, h("h2", {}, "Your limits"), quotas),
        h("section", { class: "panel" }, h("h2", {}, "Password"), passwordForm()),
        linked,
        h("section", { class: "panel" }, h("h2", {}, "Sessions and API tokens"),
          h("table", { class: "stats" }, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Created"),
            h("th", {}, "Last used"), h("th", {}, "Expires"), h("th", {}, ""))), tokens),
          make, secret, everywhere),
        receivingSection()));
    refresh();
    return () => undefined;
  };
}
