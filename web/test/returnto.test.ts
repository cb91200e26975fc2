import { describe, expect, it } from "vitest";
import { safeReturnPath, signInUrl } from "../src/ui/returnto";

describe("returning after sign-in", () => {
  it("keeps a path of this site, with its query", () => {
    expect(safeReturnPath("/studies/abc?sel=liver")).toBe("/studies/abc?sel=liver");
    expect(signInUrl("/studies/abc?sel=liver")).toBe("/signin?next=%2Fstudies%2Fabc%3Fsel%3Dliver");
  });
  it("never leaves the site", () => {
    for (const hostile of ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)",
      "evil", "", null, undefined, "/\nx"]) {
      expect(safeReturnPath(hostile)).toBe("/");
    }
  });
  it("needs no return for the list itself", () => {
    expect(signInUrl("/")).toBe("/signin");
  });
});
