"""What a result made in DICOM (SEG, SR) must reference of the series it came from.

Only UIDs and geometry are kept (:class:`~iris3d.volume.DicomSource`): they let a PACS file the
results beside their CT and identify no one. A series whose images lack a UID, or carry one that
is not a valid DICOM UID, gets no reference; the study then says why it has no SEG or SR.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.uid import UID

from iris3d.ingest.dicom_geometry import StackPlan
from iris3d.ingest.dicom_scan import NO_UID_PREFIX, SeriesInfo, SliceHeader
from iris3d.volume import DicomImageRef, DicomSource


def dicom_source(
    chosen: SeriesInfo, slices: Sequence[SliceHeader], plan: StackPlan
) -> tuple[DicomSource | None, str | None]:
    """The reference for ``slices`` (sorted, de-duplicated, as stacked), or why there is none."""
    series_uid = "" if chosen.summary.uid.startswith(NO_UID_PREFIX) else chosen.summary.uid
    claimed = {
        "Study Instance UID": chosen.study_uid,
        "Series Instance UID": series_uid,
        "Frame of Reference UID": chosen.frame_of_reference_uid,
        "SOP Class UID": chosen.sop_class_uid,
    }
    missing = [name for name, value in claimed.items() if not _valid(value)]
    if not all(_valid(h.sop_uid) for h in slices):
        missing.append("SOP Instance UID")
    if missing:
        return None, (
            f"the images carry no valid {', '.join(missing)}: a DICOM-SEG or SR could not "
            "reference them, so none is written"
        )
    first = slices[0]
    return DicomSource(
        study_uid=chosen.study_uid,
        series_uid=series_uid,
        frame_of_reference_uid=chosen.frame_of_reference_uid,
        sop_class_uid=chosen.sop_class_uid,
        modality=chosen.summary.modality or "CT",
        images=tuple(DicomImageRef(h.sop_uid, h.position) for h in slices),
        orientation=first.orientation,
        pixel_spacing=first.pixel_spacing,
        rows=first.rows,
        columns=first.columns,
        slice_thickness_mm=chosen.slice_thickness_mm,
        resampled=plan.resampling != "none",
    ), None


def _valid(uid: str) -> bool:
    return bool(uid) and UID(uid).is_valid
