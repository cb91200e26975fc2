import { describe as group, expect, it } from "vitest";
import { describe } from "../src/api/client";
import { checkCredentials, EMAIL_HINT, plainIssue } from "../src/api/plain";
import { checkSelection } from "../src/pages/upload";

// Bodies as the real API sends them (POST /api/auth/register {"email": "bob", "password": "x"}).
const REGISTER_422 = { detail: [
  { type: "string_pattern_mismatch", loc: ["body", "email"], msg: "String should match pattern '^[^@\\s]+@[^@\\s]+$'",
    input: "bob", ctx: { pattern: "^[^@\\s]+@[^@\\s]+$" } },
  { type: "string_too_short", loc: ["body", "password"], msg: "String should have at least 8 characters",
    input: "x", ctx: { min_length: 8 } },
] };

group("messages for humans", () => {
  it("tells the API's validation errors in words, without patterns or pydantic's text", () => {
    const text = describe(422, REGISTER_422);
    expect(text).toBe(`${EMAIL_HINT} The password needs at least 8 characters.`);
    expect(text).not.toMatch(/pattern|\^|String should|body/);
    expect(describe(422, { detail: [{ type: "greater_than", loc: ["body", "size"], ctx: { gt: 0 },
      msg: "Input should be greater than 0" }] })).toBe("The file is empty (0 bytes): choose the scan's file.");
    expect(plainIssue({ type: "missing", loc: ["body", "email"] })).toBe("The e-mail address is missing.");
    expect(plainIssue({ type: "string_too_long", loc: ["body", "name"], ctx: { max_length: 200 } }))
      .toBe("The name is too long: at most 200 characters.");
    expect(plainIssue({ type: "string_too_short", loc: ["body", "name"], ctx: { min_length: 1 } }))
      .toBe("The name is empty.");
    expect(plainIssue({ type: "something_new", loc: ["query", "expires_in_days"], msg: "raw" }))
      .toBe("The expires in days is not valid.");
    expect(describe(400, { detail: "Already registered." })).toBe("Already registered.");
  });

  it("checks an e-mail address and a password before sending them", () => {
    expect(checkCredentials("bob", "correct horse", true)).toBe(EMAIL_HINT);
    expect(checkCredentials("bob @example.org", "correct horse", false)).toBe(EMAIL_HINT);
    expect(checkCredentials("bob@example.org", "", false)).toBe("Enter your password.");
    expect(checkCredentials("bob@example.org", "short", true)).toBe("Choose a password of 8 characters or more.");
    expect(checkCredentials("bob@example.org", "short", false)).toBeNull(); // the server judges it
    expect(checkCredentials(" bob@example.org ", "correct horse", true)).toBeNull();
  });

  it("names an empty file before uploading it", () => {
    expect(checkSelection([new File([], "Chest CT.nii.gz")]))
      .toBe("\"Chest CT.nii.gz\" is empty (0 bytes): choose the scan's file.");
  });
});
