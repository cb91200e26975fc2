"""DICOM-SEG import through highdicom: a SEG made on the CT's own DICOM series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from iris3d.contracts import Quality
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.dicom import write_dicom_series
from iris3d.segment import SegmentationError
from iris3d.segment.imported import ImportEngine

hd = pytest.importorskip("highdicom")

_CATEGORY = hd.sr.CodedConcept("123037004", "SCT", "Anatomical Structure")
_TYPE = hd.sr.CodedConcept("91723000", "SCT", "Anatomical structure")


def _frames(datasets: list[pydicom.Dataset], phantom: Phantom, names: list[str]) -> np.ndarray:
    """Segment numbers (1..len(names)) for each CT slice, read off the phantom's truth through
    each slice's own DICOM geometry, so no voxel-order convention is assumed."""
    inverse = np.linalg.inv(phantom.labels.affine)
    lookup = np.zeros(256, dtype=np.uint8)
    for number, name in enumerate(names, start=1):
        lookup[phantom.labels.table.by_name(name).label] = number
    frames = []
    for ds in datasets:
        row_dir, col_dir = (np.asarray(ds.ImageOrientationPatient, float).reshape(2, 3))
        dy, dx = (float(v) for v in ds.PixelSpacing)
        r, c = np.mgrid[0: ds.Rows, 0: ds.Columns]
        lps = (np.asarray(ds.ImagePositionPatient, float)
               + c[..., None] * dx * row_dir + r[..., None] * dy * col_dir)
        ras = lps * np.array([-1.0, -1.0, 1.0])
        ijk = np.rint(ras @ inverse[:3, :3].T + inverse[:3, 3]).astype(int)
        frames.append(lookup[phantom.labels.array[ijk[..., 0], ijk[..., 1], ijk[..., 2]]])
    return np.stack(frames)


def _write_seg(tmp_path: Path, phantom: Phantom, names: list[str], labels: list[str]) -> Path:
    files = write_dicom_series(phantom.ct, tmp_path / "ct", seed=1)
    datasets = [pydicom.dcmread(f) for f in files]
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=n,
            segment_label=label,
            segmented_property_category=_CATEGORY,
            segmented_property_type=_TYPE,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for n, label in enumerate(labels, start=1)
    ]
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=_frames(datasets, phantom, names),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=99,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="Iris tests",
        manufacturer_model_name="phantom",
        software_versions="1",
        device_serial_number="1",
    )
    path = tmp_path / "seg" / "seg.dcm"
    path.parent.mkdir()
    seg.save_as(path)
    return path


NAMES = ["liver", "spleen", "lung_upper_lobe_left", "vertebrae_L1"]


def test_dicom_seg_lands_on_the_ct_grid_with_total_ids(tmp_path: Path) -> None:
    phantom = make_phantom(shape=(40, 32, 20), spacing=(8.0, 8.0, 8.0))
    path = _write_seg(tmp_path, phantom, NAMES, ["Liver", "spleen", "Lung Upper Lobe Left",
                                                 "vertebrae_L1"])
    result = ImportEngine(path).segment(phantom.ct, Quality.FAST)
    assert result.parameters["format"] == "dicom-seg"
    table = result.labels.table
    for name in NAMES:
        truth = phantom.labels.array == phantom.labels.table.by_name(name).label
        assert table.by_name(name).label == phantom.labels.table.by_name(name).label
        assert np.array_equal(result.labels.array == table.by_name(name).label, truth), name
    # the folder holding it works too
    assert np.array_equal(
        ImportEngine(path.parent).segment(phantom.ct, Quality.FAST).labels.array,
        result.labels.array,
    )


def test_free_text_segment_labels_are_numbered(tmp_path: Path) -> None:
    phantom = make_phantom(shape=(40, 32, 20), spacing=(8.0, 8.0, 8.0))
    path = _write_seg(tmp_path, phantom, ["liver", "spleen"], ["Tumour A", "Tumour A"])
    result = ImportEngine(path).segment(phantom.ct, Quality.FAST)
    assert {s.name: s.label for s in result.labels.table.values()} == {
        "tumour_a": 1, "tumour_a_2": 2
    }


def test_dicom_seg_of_another_study_is_refused(tmp_path: Path) -> None:
    phantom = make_phantom(shape=(40, 32, 20), spacing=(8.0, 8.0, 8.0))
    path = _write_seg(tmp_path, phantom, NAMES, NAMES)
    other = make_phantom(shape=(40, 32, 20), spacing=(2.0, 2.0, 2.0))  # a quarter of the size
    with pytest.raises(SegmentationError, match="does not match the CT"):
        ImportEngine(path).segment(other.ct, Quality.FAST)
