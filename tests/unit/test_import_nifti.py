"""Bring your own segmentation: NIfTI label maps and folders of masks, on the CT's grid or not."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from iris3d.anatomy import LabelTable
from iris3d.contracts import Quality
from iris3d.labelio import write_label_map
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.segment import SegmentationError, get_engine
from iris3d.segment.imported import GeometryMismatchError, ImportEngine
from iris3d.volume import LabelMap


def _save(array: np.ndarray, affine: np.ndarray, path: Path) -> Path:
    nib.save(nib.Nifti1Image(array, affine), str(path))
    return path


def test_label_map_on_the_same_grid_keeps_every_voxel(tmp_path: Path,
                                                      small_phantom: Phantom) -> None:
    path, _ = write_label_map(small_phantom.labels, tmp_path / "seg.nii.gz")
    result = ImportEngine(path).segment(small_phantom.ct, Quality.FAST)
    assert np.array_equal(result.labels.array, small_phantom.labels.array)
    assert result.labels.matches(small_phantom.ct)
    assert result.engine == "import"
    assert result.parameters["resampled"] is False
    assert result.labels.table.by_name("spleen").label == 1


def test_names_from_a_csv_table(tmp_path: Path, small_phantom: Phantom) -> None:
    array = (small_phantom.labels.array == 5).astype(np.uint8) * 2  # liver as id 2
    path = _save(array, small_phantom.ct.affine, tmp_path / "mine.nii.gz")
    table = tmp_path / "names.csv"
    table.write_text("id,name\n2,liver\n")
    result = ImportEngine(path, table).segment(small_phantom.ct, Quality.FAST)
    assert result.labels.table.by_name("liver").label == 2
    assert result.parameters["table"] == "names.csv"


def test_ids_missing_from_the_table_are_an_error(tmp_path: Path, small_phantom: Phantom) -> None:
    array = np.zeros(small_phantom.ct.shape, dtype=np.uint8)
    array[0, 0, 0] = 200
    path = _save(array, small_phantom.ct.affine, tmp_path / "odd.nii.gz")
    with pytest.raises(SegmentationError, match="200 are not in the label table"):
        ImportEngine(path).segment(small_phantom.ct, Quality.FAST)


def test_other_voxel_order_same_space_is_exact(tmp_path: Path, small_phantom: Phantom) -> None:
    path = write_nifti(small_phantom.labels, tmp_path / "lps.nii.gz", orientation="LPS")
    result = ImportEngine(path).segment(small_phantom.ct, Quality.FAST)
    assert np.array_equal(result.labels.array, small_phantom.labels.array)


def test_coarser_grid_in_the_same_space_is_resampled_nearest(tmp_path: Path) -> None:
    fine = make_phantom(shape=(48, 40, 24), spacing=(4.0, 4.0, 4.0))
    coarse = make_phantom(shape=(24, 20, 12), spacing=(8.0, 8.0, 8.0))
    # Same centre, same field of view: the coarse labels lie in the fine CT's space.
    path, _ = write_label_map(coarse.labels, tmp_path / "coarse.nii.gz")
    result = ImportEngine(path).segment(fine.ct, Quality.FAST)
    assert result.parameters["resampled"] is True
    assert result.labels.shape == fine.ct.shape
    assert set(np.unique(result.labels.array)) <= set(np.unique(coarse.labels.array))
    liver = coarse.labels.table.by_name("liver").label
    coarse_ml = np.count_nonzero(coarse.labels.array == liver) * coarse.ct.voxel_volume_ml
    fine_ml = np.count_nonzero(result.labels.array == liver) * fine.ct.voxel_volume_ml
    assert fine_ml == pytest.approx(coarse_ml, rel=0.1)


def test_a_segmentation_of_another_place_is_refused(tmp_path: Path,
                                                    small_phantom: Phantom) -> None:
    shifted = small_phantom.labels.affine.copy()
    shifted[2, 3] += 500.0  # half a metre up: another study
    path = _save(small_phantom.labels.array, shifted, tmp_path / "elsewhere.nii.gz")
    with pytest.raises(GeometryMismatchError, match="lie inside the CT"):
        ImportEngine(path).segment(small_phantom.ct, Quality.FAST)


def test_a_label_map_that_lost_its_affine_is_refused(tmp_path: Path,
                                                     small_phantom: Phantom) -> None:
    path = _save(small_phantom.labels.array, np.eye(4) * 1.0, tmp_path / "numpy.nii.gz")
    with pytest.raises(GeometryMismatchError):
        ImportEngine(path).segment(small_phantom.ct, Quality.FAST)


def test_totalsegmentator_mask_folder_gets_total_ids(tmp_path: Path,
                                                     small_phantom: Phantom) -> None:
    folder = tmp_path / "segmentations"
    folder.mkdir()
    labels = small_phantom.labels
    for structure in labels.table.values():
        mask = (labels.array == structure.label).astype(np.uint8)
        _save(mask, labels.affine, folder / f"{structure.name}.nii.gz")
    _save(np.zeros(labels.shape, np.uint8), labels.affine, folder / "prostate.nii.gz")
    result = ImportEngine(folder).segment(small_phantom.ct, Quality.FAST)
    assert np.array_equal(result.labels.array, labels.array)
    assert result.labels.table.by_name("prostate").label == 22  # listed, though empty
    assert result.parameters["format"] == "nifti-masks"
    assert result.parameters["overlapping_voxels"] == 0


def test_masks_with_other_names_are_numbered_in_order(tmp_path: Path,
                                                      small_phantom: Phantom) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    liver = small_phantom.labels.array == small_phantom.labels.table.by_name("liver").label
    _save(liver.astype(np.float32), small_phantom.ct.affine, folder / "zz_liver.nii.gz")
    _save((~liver & (small_phantom.ct.array > 500)).astype(np.uint8), small_phantom.ct.affine,
          folder / "aa_bones.nii")
    result = ImportEngine(folder).segment(small_phantom.ct, Quality.FAST)
    table = result.labels.table
    assert (table.by_name("aa_bones").label, table.by_name("zz_liver").label) == (1, 2)
    assert np.array_equal(result.labels.array == 2, liver)
    assert table.by_name("aa_bones").group == "other"


def test_empty_folder_and_unknown_files_are_errors(tmp_path: Path,
                                                   small_phantom: Phantom) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SegmentationError, match="no NIfTI masks and no DICOM-SEG"):
        ImportEngine(tmp_path / "empty").segment(small_phantom.ct, Quality.FAST)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SegmentationError, match="not a segmentation Iris imports"):
        ImportEngine(text).segment(small_phantom.ct, Quality.FAST)
    with pytest.raises(SegmentationError, match="no such file"):
        ImportEngine(tmp_path / "missing.nii.gz").segment(small_phantom.ct, Quality.FAST)


def test_registry_builds_the_import_engine(tmp_path: Path, small_phantom: Phantom) -> None:
    path, _ = write_label_map(small_phantom.labels, tmp_path / "seg.nii.gz")
    engine = get_engine("import", segmentation=path)
    assert engine.segment(small_phantom.ct, Quality.FAST).labels.matches(small_phantom.ct)
    with pytest.raises(SegmentationError, match="needs the segmentation"):
        get_engine("import")


def test_empty_label_map_in_another_space_is_an_error(tmp_path: Path,
                                                      small_phantom: Phantom) -> None:
    affine = small_phantom.ct.affine.copy()
    affine[0, 3] += 1.0
    empty = LabelMap(np.zeros(small_phantom.ct.shape, np.uint8), affine,
                     LabelTable.from_names({1: "x"}))
    path, _ = write_label_map(empty, tmp_path / "empty.nii.gz")
    with pytest.raises(SegmentationError, match="no labelled voxels"):
        ImportEngine(path).segment(small_phantom.ct, Quality.FAST)
