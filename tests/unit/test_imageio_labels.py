"""Label maps on disk: names in the NIfTI header (TotalSegmentator's --ml way) and a sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from iris3d.anatomy import LabelTable, Structure, total_table
from iris3d.imageio.label_tables import (
    LabelFileError,
    caret_xml,
    names_from_caret_xml,
    read_table,
)
from iris3d.imageio.labels import read_label_map, sidecar_path, write_label_map
from iris3d.ingest.limits import ReadLimits
from iris3d.phantom import Phantom
from iris3d.phantom.files import write_nifti
from iris3d.volume import LabelMap

LIMITS = ReadLimits.defaults()


def test_sidecar_sits_beside_the_nifti() -> None:
    assert sidecar_path(Path("out/seg.nii.gz")) == Path("out/seg.json")
    assert sidecar_path(Path("seg.nii")) == Path("seg.json")


def test_round_trip_keeps_voxels_affine_and_table(tmp_path: Path, small_phantom: Phantom) -> None:
    labels = small_phantom.labels
    nifti, sidecar = write_label_map(labels, tmp_path / "seg.nii.gz", about={"engine": "test"})
    back = read_label_map(nifti, max_voxels=LIMITS.max_voxels)
    assert np.array_equal(back.array, labels.array)
    assert np.allclose(back.affine, labels.affine)
    expected = [s.to_dict() for s in labels.table.values()]
    assert [s.to_dict() for s in back.table.values()] == expected
    document = json.loads(sidecar.read_text())
    assert document["segmentation"] == {"engine": "test"}
    assert {"id", "name", "group", "colour"} <= set(document["labels"][0])


def test_header_alone_names_the_labels(tmp_path: Path, small_phantom: Phantom) -> None:
    nifti, sidecar = write_label_map(small_phantom.labels, tmp_path / "seg.nii.gz")
    sidecar.unlink()
    back = read_label_map(nifti, max_voxels=LIMITS.max_voxels)
    assert {s.name for s in back.table.values()} == {
        s.name for s in small_phantom.labels.table.values()
    }
    assert back.table.by_name("liver").label == small_phantom.labels.table.by_name("liver").label


def test_totalsegmentator_reads_our_header(tmp_path: Path, small_phantom: Phantom) -> None:
    nifti_ext = pytest.importorskip("totalsegmentator.nifti_ext_header")
    pytest.importorskip("xmltodict")
    nifti, _ = write_label_map(small_phantom.labels, tmp_path / "seg.nii.gz")
    _, label_map = nifti_ext.load_multilabel_nifti(nifti)
    expected = {s.label: s.name for s in small_phantom.labels.table.values()}
    assert label_map == expected


def test_we_read_totalsegmentators_header(tmp_path: Path) -> None:
    nifti_ext = pytest.importorskip("totalsegmentator.nifti_ext_header")
    data = np.zeros((6, 5, 4), dtype=np.uint8)
    data[1:3, 1:3, 1:3] = 5
    data[4, 4, 3] = 2
    path = tmp_path / "ts.nii.gz"
    nifti_ext.save_multilabel_nifti(
        nib.Nifti1Image(data, np.eye(4)), path, {2: "kidney_right", 5: "liver"}
    )
    back = read_label_map(path, max_voxels=LIMITS.max_voxels)
    assert {s.label: s.name for s in back.table.values()} == {2: "kidney_right", 5: "liver"}
    assert back.table.by_name("liver").group == "digestive"


def test_real_totalsegmentator_output_carries_the_total_names(shared_data: Path) -> None:
    back = read_label_map(shared_data / "example_seg.nii.gz", max_voxels=LIMITS.max_voxels)
    total = {s.label: s.name for s in total_table().values()}
    assert {s.label: s.name for s in back.table.values()} == total


def test_without_names_the_total_table_is_assumed(tmp_path: Path) -> None:
    path = tmp_path / "bare.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((3, 3, 3), dtype=np.uint8) * 5, np.eye(4)), path)
    assert read_label_map(path, max_voxels=LIMITS.max_voxels).table.by_name("liver").label == 5


def test_other_voxel_orders_come_back_in_ras(tmp_path: Path, small_phantom: Phantom) -> None:
    path = write_nifti(small_phantom.labels, tmp_path / "lps.nii.gz", orientation="LPI")
    back = read_label_map(path, table=small_phantom.labels.table, max_voxels=LIMITS.max_voxels)
    assert np.array_equal(back.array, small_phantom.labels.array)
    assert np.allclose(back.affine, small_phantom.labels.affine)


def test_float_volume_that_is_not_a_label_map_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.full((3, 3, 3), 0.5, dtype=np.float32), np.eye(4)), path)
    with pytest.raises(LabelFileError, match="not a label map"):
        read_label_map(path, max_voxels=LIMITS.max_voxels)


def test_names_survive_awkward_characters() -> None:
    table = LabelTable([Structure(3, "a<b>&c]]>d", "other", (1, 2, 3))])
    assert names_from_caret_xml(caret_xml(table).encode()) == {3: "a<b>&c]] >d"}


def test_broken_extension_is_a_clear_error() -> None:
    with pytest.raises(LabelFileError, match="not valid XML"):
        names_from_caret_xml(b"<CaretExtension><Label Key='1'>")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("t.csv", "id,name,colour\n1,liver,#ff0000\n7,my_tumour,\n"),
        ("t.json", '{"1": "liver", "7": "my_tumour"}'),
        ("t.ctbl", "# Slicer\n0 Background 0 0 0 0\n1 liver 255 0 0 255\n7 my_tumour 1 2 3 255\n"),
    ],
)
def test_tables_from_csv_json_and_slicer(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    table = read_table(path)
    assert {s.label: s.name for s in table.values()} == {1: "liver", 7: "my_tumour"}
    assert table.by_name("liver").group == "digestive"
    if name != "t.json":
        assert table.by_name("liver").colour == (255, 0, 0)


def test_csv_without_the_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("label,structure\n1,liver\n")
    with pytest.raises(LabelFileError, match="id and name"):
        read_table(path)


def test_uint16_ids_are_kept(tmp_path: Path) -> None:
    array = np.zeros((4, 4, 4), dtype=np.uint16)
    array[0, 0, 0] = 300
    labels = LabelMap(array, np.eye(4), LabelTable.from_names({300: "many"}))
    nifti, _ = write_label_map(labels, tmp_path / "seg.nii.gz")
    assert read_label_map(nifti, max_voxels=LIMITS.max_voxels).array[0, 0, 0] == 300
