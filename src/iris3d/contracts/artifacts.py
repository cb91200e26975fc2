"""The files a finished job offers: their names (as the API and the web app spell them), the file
each is stored as, and its media type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class ArtifactName(StrEnum):
    GLB = "glb"  # the viewer's model (meshopt-compressed)
    GLB_PLAIN = "glb_plain"  # the same without extensions, for any glTF tool
    MESHES_ZIP = "meshes_zip"  # closed STL and OBJ per structure, for printing
    LABELS_NIFTI = "labels_nifti"
    LABELS_JSON = "labels_json"  # the label table beside labels.nii.gz
    CT_NIFTI = "ct_nifti"  # the volume that was segmented, for the slice views
    STATISTICS_JSON = "statistics_json"
    STATISTICS_CSV = "statistics_csv"
    THUMBNAIL = "thumbnail"
    MANIFEST = "manifest"  # how the study was processed
    DICOM_SEG = "dicom_seg"  # DICOM Segmentation, for studies that came as DICOM
    DICOM_SR = "dicom_sr"  # TID 1500 measurement report, for studies that came as DICOM
    # A comparison's results (its job offers only these)
    COMPARISON_JSON = "comparison_json"  # everything: alignment, every structure's change
    COMPARISON_CSV = "comparison_csv"  # the table of changes
    COMPARISON_GLB = "comparison_glb"  # the follow-up's surfaces in the baseline's frame


@dataclass(frozen=True)
class ArtifactFile:
    filename: str
    media_type: str


ARTIFACT_FILES: dict[ArtifactName, ArtifactFile] = {
    ArtifactName.GLB: ArtifactFile("anatomy.glb", "model/gltf-binary"),
    ArtifactName.GLB_PLAIN: ArtifactFile("anatomy_plain.glb", "model/gltf-binary"),
    ArtifactName.MESHES_ZIP: ArtifactFile("meshes.zip", "application/zip"),
    ArtifactName.LABELS_NIFTI: ArtifactFile("labels.nii.gz", "application/gzip"),
    ArtifactName.LABELS_JSON: ArtifactFile("labels.json", "application/json"),
    ArtifactName.CT_NIFTI: ArtifactFile("ct.nii.gz", "application/gzip"),
    ArtifactName.STATISTICS_JSON: ArtifactFile("statistics.json", "application/json"),
    ArtifactName.STATISTICS_CSV: ArtifactFile("statistics.csv", "text/csv"),
    ArtifactName.THUMBNAIL: ArtifactFile("thumbnail.png", "image/png"),
    ArtifactName.MANIFEST: ArtifactFile("manifest.json", "application/json"),
    ArtifactName.DICOM_SEG: ArtifactFile("segmentation.dcm", "application/dicom"),
    ArtifactName.DICOM_SR: ArtifactFile("measurements.dcm", "application/dicom"),
    ArtifactName.COMPARISON_JSON: ArtifactFile("comparison.json", "application/json"),
    ArtifactName.COMPARISON_CSV: ArtifactFile("comparison.csv", "text/csv"),
    ArtifactName.COMPARISON_GLB: ArtifactFile("comparison.glb", "model/gltf-binary"),
}

COMPARISON_INPUTS = (ArtifactName.CT_NIFTI, ArtifactName.LABELS_NIFTI, ArtifactName.LABELS_JSON)
"""The study job's files a comparison reads (jobs from before ``ct_nifti`` existed cannot be
compared)."""


def artifact_filename(name: ArtifactName) -> str:
    return ARTIFACT_FILES[name].filename


def missing_artifacts(
    present: Iterable[str], required: Iterable[ArtifactName]
) -> list[ArtifactName]:
    """Those of ``required`` that ``present`` (names of a job's artifacts) lacks, in order."""
    have = set(present)
    return [name for name in required if name not in have]
