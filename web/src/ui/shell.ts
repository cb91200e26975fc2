// The bar at the top of signed-in pages.
import { api, type User } from "../api/client";
import { h } from "./dom";

export async function currentUser(): Promise<User | null> {
  const me = await api.GET("/api/auth/me");
  return me.response.ok && me.data ? me.data : null;
}

export function topBar(user: User, go: (url: string) => void, ...extra: (Node | string)[]): HTMLElement {
  const signOut = h("button", { class: "ghost", type: "button" }, "Sign out");
  signOut.addEventListener("click", () => {
    void api.POST("/api/auth/signout").finally(() => go("/signin"));
  });
  return h("header", { class: "topbar" },
    h("a", { href: "/", "data-link": true, class: "brand" }, h("span", { class: "logo" }), "Iris"),
    ...extra,
    h("span", { class: "spacer" }),
    h("a", { href: "/account", "data-link": true, class: "muted user", title: "Your account" }, user.email),
    signOut);
}
