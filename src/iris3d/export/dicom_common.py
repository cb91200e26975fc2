"""What Iris's DICOM results share: the source CT as highdicom needs it to reference it (one
header per image, rebuilt from the UIDs and geometry kept at ingest,
:class:`~iris3d.volume.DicomSource`), and codes as highdicom's coded concepts.

The patient and study modules are left empty: Iris keeps no names, IDs or dates, and a result
sent to a PACS gets them from that PACS's own record of the study (docs/interop.md).
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.valuerep import format_number_as_ds

from iris3d.anatomy_codes import Code
from iris3d.volume import DicomSource

# Type 2 attributes: present, and empty when unknown. highdicom copies them from the source.
_EMPTY_TYPE_2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber",
                 "StudyID", "StudyDate", "StudyTime", "ReferringPhysicianName")


def source_datasets(source: DicomSource) -> list[Dataset]:
    """One header (no pixels) per source image, in stack order."""
    return [_image(source, k) for k in range(len(source.images))]


def empty_patient_module(ds: Dataset) -> None:
    for keyword in _EMPTY_TYPE_2:
        setattr(ds, keyword, "")


def coded(code: Code) -> Any:
    """``code`` as a highdicom ``CodedConcept`` (a pydicom Dataset, so modifiers can be added)."""
    import highdicom as hd

    return hd.sr.CodedConcept(code.value, code.scheme, code.meaning)


def reference_header(
    sop_class_uid: str, sop_instance_uid: str, study_uid: str, series_uid: str
) -> Dataset:
    """A header that stands for an instance as evidence (UIDs and the empty patient module)."""
    ds = Dataset()
    empty_patient_module(ds)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class_uid, sop_instance_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    return ds


def _image(source: DicomSource, k: int) -> Dataset:
    image = source.images[k]
    ds = reference_header(source.sop_class_uid, image.sop_instance_uid, source.study_uid,
                          source.series_uid)
    ds.FrameOfReferenceUID = source.frame_of_reference_uid
    ds.Modality = source.modality
    ds.Rows, ds.Columns = source.rows, source.columns
    ds.PixelSpacing = [_ds(v) for v in source.pixel_spacing]
    ds.ImageOrientationPatient = [_ds(v) for v in source.orientation]
    ds.ImagePositionPatient = [_ds(v) for v in image.position]
    if source.slice_thickness_mm:
        ds.SliceThickness = _ds(source.slice_thickness_mm)
    return ds


def _ds(value: float) -> str:
    """A Decimal String (at most 16 characters)."""
    return format_number_as_ds(float(value))
