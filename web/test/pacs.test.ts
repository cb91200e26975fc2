import { describe, expect, it } from "vitest";
import { searchQuery, seriesLabel, type SeriesHit } from "../src/pages/pacs";

const hit: SeriesHit = {
  study_uid: "1.2", series_uid: "1.2.3", date: "2024-01-01", modality: "CT", description: "Chest",
  study_description: "", number: 1, instance_count: 120, patient_name: "Doe^Jane", patient_id: "X",
};

describe("the PACS search", () => {
  it("sends only the fields filled in, the modality in capitals", () => {
    expect(searchQuery({ dateFrom: "", dateTo: "2024-02-01", modality: " ct ", description: "  " }))
      .toEqual({ date_to: "2024-02-01", modality: "CT" });
  });

  it("describes a series without its patient", () => {
    expect(seriesLabel(hit)).toBe("2024-01-01 · CT · Chest · 120 images");
    expect(seriesLabel({ ...hit, date: null, description: "", instance_count: null }))
      .toBe("no date · CT · (no description)");
  });
});

describe("sending results to a PACS", () => {
  it("offers only the DICOM results the job has", async () => {
    const { sendablePacsResults } = await import("../src/pages/pacssend");
    const job = { artifacts: [{ name: "glb" }, { name: "dicom_sr" }] } as unknown as Parameters<typeof sendablePacsResults>[0];
    expect(sendablePacsResults(job)).toEqual(["dicom_sr"]);
    expect(sendablePacsResults({ ...job, artifacts: [] })).toEqual([]);
  });
});
