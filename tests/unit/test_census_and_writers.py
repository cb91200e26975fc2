"""The label census (one pass: counts and boxes) and the parallel .nii.gz writer."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage

from iris3d.anatomy import total_table
from iris3d.census import take_census
from iris3d.niftiwrite import ParallelGzipWriter, save_nifti
from iris3d.volume import LabelMap


def _labels(order: str) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(3)
    array = np.zeros((70, 60, 50), dtype=np.uint8, order="F" if order == "F" else "C")
    for label in (1, 4, 9, 200):
        low = rng.integers(0, 40, size=3)
        size = rng.integers(1, 20, size=3)
        array[low[0]:low[0] + size[0], low[1]:low[1] + size[1], low[2]:low[2] + size[2]] = label
    return array


@pytest.mark.parametrize("order", ["C", "F"])
def test_census_matches_bincount_and_find_objects(order: str, monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    monkeypatch.setattr("iris3d.census._SLAB_VOXELS", 3000)  # many slabs, boxes across them
    array = _labels(order)
    census = take_census(array)
    counts = np.bincount(array.ravel())
    assert census.present() == [int(i) for i in np.flatnonzero(counts) if i]
    assert np.array_equal(census.counts[1:], counts[1:])
    expected = ndimage.find_objects(array)
    for label in census.present():
        assert census.boxes[label] == expected[label - 1]


def test_census_of_background_and_negative_ids() -> None:
    empty = take_census(np.zeros((4, 5, 6), dtype=np.uint8))
    assert empty.present() == [] and empty.boxes == {}
    signed = np.zeros((4, 5, 6), dtype=np.int16)
    signed[1, 2, 3], signed[0, 0, 0] = 7, -5  # negative ids are not structures
    census = take_census(signed)
    assert census.present() == [7]
    assert census.boxes[7] == (slice(1, 2), slice(2, 3), slice(3, 4))


def test_label_map_takes_its_census_once() -> None:
    labels = LabelMap(_labels("C"), np.eye(4), total_table())
    assert labels.census is labels.census
    assert labels.present_ids() == [1, 4, 9, 200]


def test_parallel_gzip_is_one_standard_stream(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("iris3d.niftiwrite.PIECE_BYTES", 1000)
    data = np.random.default_rng(0).integers(0, 50, size=25_000, dtype=np.uint8).tobytes()
    path = tmp_path / "x.gz"
    with ParallelGzipWriter(path, level=1, threads=3) as stream:
        for start in range(0, len(data), 777):
            stream.write(data[start:start + 777])
        assert stream.tell() == len(data)
    raw = path.read_bytes()
    assert gzip.decompress(raw) == data
    # One member (not several glued together): the whole stream is one deflate stream.
    body = zlib.decompressobj(-zlib.MAX_WBITS)
    assert body.decompress(raw[10:]) == data and len(body.unused_data) == 8


def test_a_failed_write_leaves_no_complete_looking_file(tmp_path: Path) -> None:
    path = tmp_path / "x.gz"
    with pytest.raises(RuntimeError), ParallelGzipWriter(path) as stream:
        stream.write(b"abc" * 1000)
        raise RuntimeError("disk full")
    with pytest.raises((EOFError, OSError)):
        gzip.decompress(path.read_bytes())


def test_save_nifti_round_trips(tmp_path: Path) -> None:
    array = np.asfortranarray(np.arange(40 * 30 * 20, dtype=np.int16).reshape(40, 30, 20))
    affine = np.diag([0.7, 0.8, 2.5, 1.0])
    affine[:3, 3] = (-100, 20, 30)
    image = nib.Nifti1Image(array, affine)
    written = save_nifti(image, tmp_path / "ct.nii.gz", threads=2)
    back = cast("nib.Nifti1Image", nib.load(written))
    assert np.array_equal(np.asarray(back.dataobj), array)
    assert np.allclose(back.affine, affine)
    plain = cast("nib.Nifti1Image", nib.load(save_nifti(image, tmp_path / "ct.nii")))
    assert np.array_equal(np.asarray(plain.dataobj), array)
