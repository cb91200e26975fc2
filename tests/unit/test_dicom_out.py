"""DICOM out: a study read from DICOM gets a DICOM-SEG and a TID 1500 report, read back here with
highdicom and pydicom and imported again with Iris's own DICOM-SEG import."""

from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from iris3d.anatomy import LabelTable
from iris3d.anatomy_codes import structure_codes
from iris3d.export.dicom_seg import DicomExportError, write_dicom_seg
from iris3d.imageio import read_label_map
from iris3d.ingest import load_study
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.phantom.files import write_nifti
from iris3d.pipeline import ProcessOptions, StudyResult, process_study
from iris3d.segment import Quality
from iris3d.segment.imported import ImportEngine
from iris3d.volume import LabelMap

LIMITS = ReadLimits.defaults()

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def _process(source: Path, labels: Path, out: Path) -> StudyResult:
    options = ProcessOptions(engine="import", segmentation=labels)
    return process_study(source, out, options=options, limits=LIMITS)


@pytest.fixture(scope="module")
def dicom_study(
    tmp_path_factory: pytest.TempPathFactory, small_phantom: Phantom
) -> tuple[list[pydicom.Dataset], StudyResult]:
    tmp = tmp_path_factory.mktemp("dicom-out")
    files = write_dicom_series(small_phantom.ct, tmp / "ct", seed=3)
    labels = write_nifti(small_phantom.labels, tmp / "truth.nii.gz")
    result = _process(tmp / "ct", labels, tmp / "out")
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in files], result


def test_the_seg_has_one_coded_coloured_segment_per_structure(
    dicom_study: tuple[list[pydicom.Dataset], StudyResult],
) -> None:
    _, result = dicom_study
    seg = hd.seg.segread(result.files["dicom_seg"])
    labels = read_label_map(result.files["labels_nifti"], max_voxels=LIMITS.max_voxels)
    present = labels.census.present()
    assert result.files["dicom_seg"].name == "segmentation.dcm"
    assert seg.SOPClassUID == SEG_SOP_CLASS and seg.SegmentationType == "BINARY"
    assert len(seg.SegmentSequence) == len(present)
    for item, label in zip(seg.SegmentSequence, present, strict=True):
        structure = labels.table[label]
        codes = structure_codes(structure.name)
        assert item.SegmentLabel == structure.name
        kind = item.SegmentedPropertyTypeCodeSequence[0]
        assert (kind.CodingSchemeDesignator, kind.CodeValue) == ("SCT", codes.type.value)
        assert codes.standard, structure.name  # every phantom structure has its SNOMED code
        lab = hd.color.CIELabColor.from_dicom_value(tuple(item.RecommendedDisplayCIELabValue))
        assert np.abs(np.subtract(lab.to_rgb(), structure.colour)).max() <= 2, structure.name
    by_name = {item.SegmentLabel: item for item in seg.SegmentSequence}
    kidney = by_name["kidney_left"].SegmentedPropertyTypeCodeSequence[0]
    assert (kidney.CodeValue, kidney.CodeMeaning) == ("64033007", "Kidney")
    assert kidney.SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "7771000"  # Left
    right = by_name["kidney_right"].SegmentedPropertyTypeCodeSequence[0]
    assert right.SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "24028007"  # Right
    assert by_name["liver"].SegmentedPropertyTypeCodeSequence[0].CodeValue == "10200004"
    assert by_name["liver"].SegmentAlgorithmType == "MANUAL"  # imported: no algorithm claimed


def test_the_seg_refers_to_the_source_series_and_its_images(
    dicom_study: tuple[list[pydicom.Dataset], StudyResult],
) -> None:
    ct, result = dicom_study
    seg = pydicom.dcmread(result.files["dicom_seg"], stop_before_pixels=True)
    assert seg.StudyInstanceUID == ct[0].StudyInstanceUID
    assert seg.FrameOfReferenceUID == ct[0].FrameOfReferenceUID
    assert seg.SeriesInstanceUID != ct[0].SeriesInstanceUID
    (series,) = seg.ReferencedSeriesSequence
    assert series.SeriesInstanceUID == ct[0].SeriesInstanceUID
    sources = {ds.SOPInstanceUID for ds in ct}
    assert {i.ReferencedSOPInstanceUID for i in series.ReferencedInstanceSequence} == sources
    for frame in seg.PerFrameFunctionalGroupsSequence:  # each frame names its own CT image
        (image,) = frame.DerivationImageSequence[0].SourceImageSequence
        assert image.ReferencedSOPInstanceUID in sources
    # The de-identified data it came from: the phantom's fake patient does not reach the SEG.
    assert ct[0].PatientName == "Phantom^Iris"
    assert str(seg.PatientName) == "" and seg.PatientID == ""
    assert b"Phantom" not in result.files["dicom_seg"].read_bytes()


def test_the_seg_imports_back_to_the_same_labels(
    dicom_study: tuple[list[pydicom.Dataset], StudyResult], small_phantom: Phantom
) -> None:
    _, result = dicom_study
    volume = load_study(result.files["dicom_seg"].parent.parent / "ct", limits=LIMITS)
    engine = ImportEngine(result.files["dicom_seg"], max_voxels=LIMITS.max_voxels)
    imported = engine.segment(volume, Quality.FAST).labels
    written = read_label_map(result.files["labels_nifti"], max_voxels=LIMITS.max_voxels)
    assert np.array_equal(imported.array, written.array)
    assert np.allclose(imported.affine, written.affine)
    present = written.census.present()
    assert {s.name: s.label for s in imported.table.values()} == {
        written.table[label].name: label for label in present
    }
    assert np.array_equal(written.array, small_phantom.labels.array)


def test_left_and_right_land_on_the_patients_left_and_right(
    dicom_study: tuple[list[pydicom.Dataset], StudyResult], small_phantom: Phantom
) -> None:
    """Read with highdicom's own geometry (LPS: +x is the patient's left), not Iris's."""
    _, result = dicom_study
    seg = hd.seg.segread(result.files["dicom_seg"])
    numbers = {seg.get_segment_description(n).segment_label: n for n in seg.segment_numbers}
    for name in ("kidney_left", "kidney_right", "lung_upper_lobe_left", "femur_right"):
        if name not in numbers:
            continue
        volume = seg.get_volume(segment_numbers=[numbers[name]], combine_segments=True)
        ijk = np.argwhere(np.asarray(volume.array) > 0)
        lps = ijk @ volume.affine[:3, :3].T + volume.affine[:3, 3]
        centroid_ras = lps.mean(axis=0) * np.array([-1.0, -1.0, 1.0])
        truth = np.array(small_phantom.truth[name].centroid_ras)
        assert np.allclose(centroid_ras, truth, atol=1.0), name
        assert (lps[:, 0].mean() > 0) == name.endswith("_left"), name


def test_the_report_holds_volume_and_mean_hu_per_segment(
    dicom_study: tuple[list[pydicom.Dataset], StudyResult],
) -> None:
    ct, result = dicom_study
    sr = hd.sr.srread(result.files["dicom_sr"])
    seg = pydicom.dcmread(result.files["dicom_seg"], stop_before_pixels=True)
    document = json.loads(result.files["statistics_json"].read_text())
    statistics = {s["name"]: s for s in document["structures"]}
    assert result.files["dicom_sr"].name == "measurements.dcm"
    assert sr.StudyInstanceUID == ct[0].StudyInstanceUID and str(sr.PatientName) == ""
    groups = sr.content.get_volumetric_roi_measurement_groups()
    assert len(groups) == len(seg.SegmentSequence) == len(statistics)
    labels = {item.SegmentNumber: item.SegmentLabel for item in seg.SegmentSequence}
    for group in groups:
        name = str(group.tracking_identifier)
        (segment,) = group.referenced_segment[0].ReferencedSOPSequence
        assert segment.ReferencedSOPInstanceUID == seg.SOPInstanceUID
        assert labels[segment.ReferencedSegmentNumber] == name
        measured = {m.name.meaning: m for m in group.get_measurements()}
        volume, hu = measured["Volume"], measured["Attenuation Coefficient"]
        assert volume.unit.value == "mL" and hu.unit.value == "[hnsf'U]"
        assert hu.derivation.meaning == "Mean"
        assert volume.value == pytest.approx(statistics[name]["voxel_volume_ml"], rel=1e-3)
        assert hu.value == pytest.approx(statistics[name]["hu_mean"], abs=0.01)


def test_a_study_not_from_dicom_gets_no_seg_or_sr(tmp_path: Path, small_phantom: Phantom) -> None:
    ct = write_nifti(small_phantom.ct, tmp_path / "ct.nii.gz")
    labels = write_nifti(small_phantom.labels, tmp_path / "truth.nii.gz")
    result = _process(ct, labels, tmp_path / "out")
    assert "dicom_seg" not in result.files and "dicom_sr" not in result.files
    assert not list((tmp_path / "out").glob("*.dcm"))
    with pytest.raises(DicomExportError, match="did not come from DICOM"):
        volume = load_study(ct, limits=LIMITS)
        write_dicom_seg(volume, small_phantom.labels, tmp_path / "seg.dcm", None)


def test_images_without_uids_get_no_seg_and_say_why(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    for path in write_dicom_series(small_phantom.ct, tmp_path / "ct", seed=4):
        ds = pydicom.dcmread(path)
        del ds.FrameOfReferenceUID
        ds.save_as(path)
    labels = write_nifti(small_phantom.labels, tmp_path / "truth.nii.gz")
    result = _process(tmp_path / "ct", labels, tmp_path / "out")
    assert "dicom_seg" not in result.files and "dicom_sr" not in result.files
    warnings = result.manifest["study"]["warnings"]  # type: ignore[index]
    assert any("Frame of Reference UID" in w and "DICOM-SEG" in w for w in warnings)


def test_a_resampled_series_gets_a_seg_on_its_own_grid(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    """Uneven slices: Iris resamples them, and the SEG is written on Iris's regular grid."""
    depth = small_phantom.ct.shape[2]
    offsets = [8.0 * k + (2.5 if k == depth // 2 else 0.0) for k in range(depth)]
    write_dicom_series(small_phantom.ct, tmp_path / "ct", slice_offsets_mm=offsets, seed=5)
    volume = load_study(tmp_path / "ct", limits=LIMITS)
    assert volume.dicom is not None and volume.dicom.resampled
    labels = LabelMap(small_phantom.labels.array, volume.affine, small_phantom.labels.table)
    written = write_dicom_seg(volume, labels, tmp_path / "seg.dcm", None)
    assert written is not None
    seg = pydicom.dcmread(written.path, stop_before_pixels=True)
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == volume.dicom.series_uid
    engine = ImportEngine(written.path, max_voxels=LIMITS.max_voxels)
    imported = engine.segment(volume, Quality.FAST).labels
    assert np.array_equal(imported.array, labels.array)


def test_names_without_a_standard_code_get_a_generic_one_with_their_side(
    tmp_path: Path, small_phantom: Phantom
) -> None:
    write_dicom_series(small_phantom.ct, tmp_path / "ct", seed=6)
    volume = load_study(tmp_path / "ct", limits=LIMITS)
    array = np.zeros(volume.shape, dtype=np.uint8)
    array[10:20, 10:20, 5:10] = 1
    array[30:40, 10:20, 5:10] = 3  # id 2 absent: segments are numbered 1..N over those present
    table = LabelTable.from_names({1: "tumour_left", 2: "absent", 3: "liver"})
    written = write_dicom_seg(volume, LabelMap(array, volume.affine, table), tmp_path / "s.dcm",
                              None)
    assert written is not None and written.segment_numbers == {1: 1, 3: 2}
    seg = pydicom.dcmread(written.path, stop_before_pixels=True)
    tumour = seg.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0]
    assert (tumour.CodeValue, tumour.CodeMeaning) == ("91723000", "Anatomical structure")
    assert tumour.SegmentedPropertyTypeModifierCodeSequence[0].CodeMeaning == "Left"
    assert seg.SegmentSequence[0].SegmentLabel == "tumour_left"
    empty = LabelMap(np.zeros_like(array), volume.affine, table)
    assert write_dicom_seg(volume, empty, tmp_path / "none.dcm", None) is None
