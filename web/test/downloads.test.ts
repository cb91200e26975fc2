import { describe, expect, it } from "vitest";
import type { Artifact, Job } from "../src/api/client";
import { offeredDownloads } from "../src/pages/downloads";

const file = (name: Artifact["name"], filename: string): Artifact =>
  ({ name, filename, size: 1, media_type: "application/octet-stream", url: `/a/${name}` });
const job = (artifacts: Artifact[]): Job => ({
  id: "j", kind: "study", study_id: "s", state: "done", stage: "done", percent: 100, message: "",
  queue_position: null, eta_seconds: null, quality: "fast", engine: "auto", engine_used: "tissue",
  engine_reason: null, error: null, cancel_requested: false, attempts: 1, max_attempts: 3,
  series_uid: null, created_at: "", updated_at: "", started_at: null, finished_at: null,
  duration_s: null, timings_s: {}, artifacts,
});
const common = [file("glb", "anatomy.glb"), file("labels_nifti", "labels.nii.gz"),
  file("thumbnail", "thumbnail.png")];

describe("downloads of a finished study", () => {
  it("offers the DICOM results, labelled for a PACS, when the study came as DICOM", () => {
    const dicom = job([...common, file("dicom_sr", "measurements.dcm"), file("dicom_seg", "segmentation.dcm")]);
    const offered = offeredDownloads(dicom);
    expect(offered.map((d) => d.file.filename)).toEqual(
      ["anatomy.glb", "labels.nii.gz", "segmentation.dcm", "measurements.dcm"]);
    expect(offered[2]!.label).toMatch(/DICOM-SEG/);
    expect(offered[3]!.label).toMatch(/DICOM SR/);
  });

  it("offers no DICOM files for a study that came as NIfTI", () => {
    expect(offeredDownloads(job(common)).map((d) => d.label)).toEqual(["3D model (GLB)", "Label map (NIfTI)"]);
  });
});
