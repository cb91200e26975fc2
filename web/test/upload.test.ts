import { describe, expect, it } from "vitest";
import { engineOf, qualityOf } from "../src/pages/jobchoice";
import { checkSelection, nameRefusal, type Limits } from "../src/pages/upload";

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

describe("job choices", () => {
  it("takes the form's quality and engine only when the API has them", () => {
    expect(qualityOf("normal")).toBe("normal");
    expect(qualityOf("ultra")).toBe("fast");
    expect(qualityOf("toString")).toBe("fast"); // an own key only, never an inherited one
    expect(engineOf("tissue")).toBe("tissue");
    expect(engineOf("")).toBe("auto");
  });
});

describe("refusals name the user's file", () => {
  it("puts the user's file name where the server names its stored copy", () => {
    expect(nameRefusal("study.nii.gz: the header says 3 dimensions but holds 2.", "Chest CT.nii.gz"))
      .toBe('"Chest CT.nii.gz" was not accepted: the header says 3 dimensions but holds 2.');
    expect(nameRefusal("The data in study.nrrd is shorter than its header says.", "scan.nrrd"))
      .toBe('"scan.nrrd" was not accepted: The data in it is shorter than its header says.');
    expect(nameRefusal("A study may hold at most 2000 files.", "big.zip"))
      .toBe('"big.zip" was not accepted: A study may hold at most 2000 files.');
  });
});
