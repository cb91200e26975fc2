import { describe, expect, it } from "vitest";
import { checkSelection, displayName } from "../src/pages/upload";

describe("upload selection", () => {
  it("names a study from its file", () => {
    expect(displayName("Chest CT.nii.gz")).toBe("Chest CT");
    expect(displayName("series.ZIP")).toBe("series");
    expect(displayName("IM0001")).toBe("IM0001");
  });

  it("refuses what can never be a study, before sending it", () => {
    expect(checkSelection([])).toMatch(/No files/);
    expect(checkSelection([new File(["x"], "report.pdf")])).toMatch(/not a NIfTI/);
    expect(checkSelection([new File(["x"], "ct.nii.gz")])).toBeNull();
    expect(checkSelection([new File(["x"], "IM0001")])).toBeNull();
  });
});
