// The files a finished study offers for download, in the order shown, with their labels.
import { artifact, type Artifact, type Job } from "../api/client";

export const DOWNLOADS: readonly (readonly [Artifact["name"], string])[] = [
  ["glb", "3D model (GLB)"],
  ["glb_plain", "3D model, plain GLB (Blender, Windows 3D Viewer, other tools)"],
  ["meshes_zip", "Meshes for printing (STL/OBJ zip)"],
  ["statistics_csv", "Statistics (CSV)"], ["statistics_json", "Statistics (JSON)"],
  ["labels_nifti", "Label map (NIfTI)"],
  // Only for studies that came as DICOM: for a PACS, OHIF or 3D Slicer.
  ["dicom_seg", "Segmentation for PACS and viewers (DICOM-SEG)"],
  ["dicom_sr", "Measurements for PACS and viewers (DICOM SR)"],
];

export interface Download { label: string; file: Artifact }

/** The downloads this job has: a study that did not come as DICOM has no DICOM files. */
export function offeredDownloads(job: Job): Download[] {
  return DOWNLOADS.flatMap(([name, label]) => {
    const file = artifact(job, name);
    return file ? [{ label, file }] : [];
  });
}
