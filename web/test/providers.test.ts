import { describe, expect, it } from "vitest";
import { providerLinks, type SignInProvider } from "../src/pages/providers";

const hospital: SignInProvider = {
  kind: "oidc", name: "St Mary's", login_url: "/api/auth/oidc/login",
  link_url: "/api/auth/oidc/login?link=1",
};

describe("identity provider links", () => {
  it("sign in, or link an account, with the provider's name", () => {
    expect(providerLinks([hospital], "signin")).toEqual([
      { label: "Sign in with St Mary's", href: "/api/auth/oidc/login" }]);
    expect(providerLinks([hospital], "link")).toEqual([
      { label: "Link your St Mary's account", href: "/api/auth/oidc/login?link=1" }]);
  });
  it("none when the server offers none", () => {
    expect(providerLinks([], "signin")).toEqual([]);
  });
  it("never lead off this server", () => {
    const away = { ...hospital, login_url: "//evil.example/login", link_url: "https://evil.example" };
    expect(providerLinks([away], "signin")).toEqual([]);
    expect(providerLinks([away], "link")).toEqual([]);
  });
});
