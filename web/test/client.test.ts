import { expect, it } from "vitest";
import { describe } from "../src/api/client";

it("reads an error body only when it has the API's shape", () => {
  expect(describe(404, { detail: "Study not found." })).toBe("Study not found.");
  expect(describe(422, { detail: [{ type: "missing", loc: ["body", "name"] }] })).toBe("The name is missing.");
  expect(describe(422, { detail: [{ type: 7 }] })).toBe("Request failed (422).");
  expect(describe(502, "<html>Bad gateway</html>")).toBe("Request failed (502).");
  expect(describe(500, null)).toBe("Request failed (500).");
  expect(describe(0, undefined)).toBe("The server cannot be reached.");
});
