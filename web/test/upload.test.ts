import { describe, expect, it } from "vitest";
import { checkSelection, type Limits } from "../src/pages/upload";

const limits: Limits = { upload_suffixes: [".nii.gz", ".nii", ".zip", ".dcm"], detached_header_suffixes: [".mhd"],
  max_upload_bytes: 2 ** 30 };

describe("upload selection", () => {
  it("refuses what can never be a study, before sending it", () => {
    expect(checkSelection([], limits)).toMatch(/No files/);
    expect(checkSelection([new File(["x"], "report.pdf")], limits)).toMatch(/not one of the file types/);
    expect(checkSelection([new File(["x"], "ct.nii.gz")], limits)).toBeNull();
    expect(checkSelection([new File(["x"], "IM0001")], limits)).toBeNull();
  });

  it("leaves file types to the server until it has named them", () => {
    expect(checkSelection([new File(["x"], "report.pdf")])).toBeNull();
    expect(checkSelection([new File([], "ct.nii")])).toMatch(/empty/);
  });
});
