import { describe, expect, it } from "vitest";
import { checkSelection } from "../src/pages/upload";

describe("upload selection", () => {
  it("refuses what can never be a study, before sending it", () => {
    expect(checkSelection([])).toMatch(/No files/);
    expect(checkSelection([new File(["x"], "report.pdf")])).toMatch(/not a NIfTI/);
    expect(checkSelection([new File(["x"], "ct.nii.gz")])).toBeNull();
    expect(checkSelection([new File(["x"], "IM0001")])).toBeNull();
  });
});
