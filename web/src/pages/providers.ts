// Sign-in with the institution: the identity providers the server offers, as links (not forms:
// the server answers them with a redirect to the provider, which a form's CSP would block).
import { api } from "../api/client";
import type { components } from "../api/schema";

export type SignInProvider = components["schemas"]["SignInProvider"];

export interface ProviderLink { label: string; href: string }

/** One link per provider; only this server's own paths are followed. */
export function providerLinks(providers: SignInProvider[], purpose: "signin" | "link"): ProviderLink[] {
  return providers
    .map((p) => ({
      label: purpose === "signin" ? `Sign in with ${p.name}` : `Link your ${p.name} account`,
      href: purpose === "signin" ? p.login_url : p.link_url,
    }))
    .filter((l) => l.href.startsWith("/") && !l.href.startsWith("//"));
}

/** The providers, or none when the server cannot say (local sign-in still works). */
export async function loadProviders(): Promise<SignInProvider[]> {
  try {
    const { data, response } = await api.GET("/api/auth/providers");
    return response.ok && data ? data : [];
  } catch {
    return [];
  }
}
