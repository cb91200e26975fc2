// Sign up and sign in: one form, two modes.
import { api, describe } from "../api/client";
import { checkCredentials } from "../api/plain";
import { h } from "../ui/dom";
import { loadProviders, providerLinks } from "./providers";
import type { Leave } from "../router";
import { safeReturnPath } from "../ui/returnto";

export function authPage(mode: "signin" | "signup", go: (url: string) => void) {
  return (root: HTMLElement): Leave => {
    const error = h("p", { class: "form-error", role: "alert", "aria-live": "assertive" });
    const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true,
      id: "email" });
    const password = h("input", { type: "password", name: "password", required: true, minlength: 8,
      id: "password", autocomplete: mode === "signup" ? "new-password" : "current-password" });
    const invite = h("input", { type: "text", name: "invite", id: "invite", autocomplete: "off" });
    const submit = h("button", { type: "submit", class: "primary" },
      mode === "signup" ? "Create account" : "Sign in");
    // Filled when the server says which identity providers it offers (none: nothing shown).
    const providers = h("div", { class: "providers" });
    void loadProviders().then((offered) => {
      const links = providerLinks(offered, "signin");
      if (links.length === 0) return;
      providers.append(h("p", { class: "muted or" }, "or"),
        ...links.map((l) => h("a", { class: "button provider", href: l.href }, l.label)));
    });
    const form = h("form", { class: "auth-card", novalidate: true },
      h("div", { class: "brand big" }, h("span", { class: "logo" }), "Iris"),
      h("p", { class: "muted" }, "CT to an explorable 3D model of the patient's anatomy."),
      h("h1", {}, mode === "signup" ? "Create your account" : "Sign in"),
      h("label", { for: "email" }, "Email"), email,
      h("label", { for: "password" }, "Password",
        mode === "signup" ? h("span", { class: "muted" }, " (8 characters or more)") : null),
      password,
      mode === "signup" ? h("label", { for: "invite" }, "Invite code",
        h("span", { class: "muted" }, " (if your administrator gave you one)")) : null,
      mode === "signup" ? invite : null,
      error, submit, providers,
      mode === "signup"
        ? h("p", {}, "Already registered? ", h("a", { href: "/signin", "data-link": true }, "Sign in"))
        : h("p", {}, "New here? ", h("a", { href: "/signup", "data-link": true }, "Create an account")),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void (async () => {
        error.textContent = checkCredentials(email.value, password.value, mode === "signup") ?? "";
        if (error.textContent) return;
        submit.disabled = true;
        const body = { email: email.value.trim(), password: password.value };
        try {
          if (mode === "signup") {
            const code = invite.value.trim();
            const made = await api.POST("/api/auth/register", { body: code ? { ...body, invite: code } : body });
            if (!made.response.ok) throw new Error(describe(made.response.status, made.error));
          }
          const signed = await api.POST("/api/auth/signin", { body });
          if (!signed.response.ok) throw new Error(describe(signed.response.status, signed.error));
          go(safeReturnPath(new URLSearchParams(location.search).get("next")));
        } catch (err) {
          error.textContent = err instanceof Error ? err.message : String(err);
        } finally {
          submit.disabled = false;
        }
      })();
    });
    root.append(h("main", { class: "auth" }, form));
    email.focus();
    return () => undefined;
  };
}
