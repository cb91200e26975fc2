"""The statistics as a DICOM measurement report (TID 1500, Comprehensive 3D SR, via highdicom).

One volumetric ROI group per structure, pointing at its segment in Iris's SEG and the CT series
the SEG was made from, with two measurements: its volume in mL (from the label map's voxels, as
in statistics.csv) and its mean attenuation in HU. Viewers that read TID 1500 (OHIF, 3D Slicer)
show them beside the segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydicom.uid import generate_uid

from iris3d import __version__
from iris3d.anatomy_codes import LEFT, RIGHT, structure_codes
from iris3d.export.dicom_common import coded, reference_header
from iris3d.export.dicom_seg import (
    MANUFACTURER,
    SEG_SOP_CLASS_UID,
    DicomExportError,
    WrittenSeg,
)
from iris3d.stats.measures import StructureStats
from iris3d.volume import CTVolume

SR_SERIES_NUMBER = 9002
_DEVICE_UID = generate_uid(entropy_srcs=["iris3d measurement device"])


def write_dicom_sr(
    volume: CTVolume, statistics: Sequence[StructureStats], seg: WrittenSeg, path: Path
) -> Path:
    """Write the report of ``statistics`` (for the structures in ``seg``) as ``path``."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if volume.dicom is None:
        raise DicomExportError("the study did not come from DICOM: there is no series to refer to")
    groups = [_group(s, seg, volume.dicom.series_uid) for s in statistics
              if s.label in seg.segment_numbers]
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=_DEVICE_UID, name="Iris", manufacturer_name=MANUFACTURER, model_name="Iris"),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=codes.SCT.ComputedTomography,
        imaging_measurements=groups,
    )
    evidence = reference_header(SEG_SOP_CLASS_UID, seg.sop_instance_uid, seg.study_uid,
                                seg.series_uid)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[evidence],
        content=report,
        series_instance_uid=hd.UID(),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        series_description="Iris measurements",
        software_versions=__version__,
    )
    sr.save_as(path)
    return path


def _group(stats: StructureStats, seg: WrittenSeg, series_uid: str) -> Any:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    structure = structure_codes(stats.name)
    # Where it is: the region for a finding that is not itself anatomy (a cyst of the left
    # kidney), else the structure; the side, when the codes give one.
    where, side = ((structure.region, structure.region_modifier) if structure.region is not None
                   else (structure.type, structure.type_modifier))
    site = hd.sr.FindingSite(coded(where),
                             laterality=coded(side) if side in (LEFT, RIGHT) else None)
    volume = hd.sr.Measurement(
        name=codes.SCT.Volume, value=stats.voxel_volume_ml,
        unit=hd.sr.CodedConcept("mL", "UCUM", "milliliter"),
    )
    mean_hu = hd.sr.Measurement(
        name=codes.DCM.AttenuationCoefficient, value=stats.hu_mean,
        unit=codes.UCUM.HounsfieldUnit, derivation=codes.SCT.Mean,
    )
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=stats.name[:64]),
        referenced_segment=hd.sr.ReferencedSegment(
            sop_class_uid=SEG_SOP_CLASS_UID,
            sop_instance_uid=seg.sop_instance_uid,
            segment_number=seg.segment_numbers[stats.label],
            source_series=hd.sr.SourceSeriesForSegmentation(series_uid),
        ),
        finding_type=coded(structure.type),
        finding_sites=[site],
        measurements=[volume, mean_hu],
    )
