"""The image files Iris writes: one module, the same headers for every writer."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np

from iris3d.imageio import write_ct_nifti, write_label_map
from iris3d.imageio.itk import to_itk, write_itk
from iris3d.phantom import Phantom
from iris3d.volume import CTVolume

AFFINE = np.array([[-0.8, 0, 0, 120.0], [0, 0.8, 0, -90.0], [0, 0, 2.5, 40.0], [0, 0, 0, 1]])


def _load(path: Path) -> nib.Nifti1Image:
    return cast("nib.Nifti1Image", nib.load(path))


def test_the_ct_is_int16_hu_on_its_affine(tmp_path: Path) -> None:
    hu = np.array([-1024.4, 40.6, 50000.0, -50000.0] * 6, dtype=np.float32).reshape(2, 3, 4)
    path = write_ct_nifti(CTVolume(hu, AFFINE), tmp_path / "ct.nii.gz")
    image = _load(path)
    assert image.get_data_dtype() == np.int16
    assert np.asarray(image.dataobj)[0, 0, :].tolist() == [-1024, 41, 32767, -32768]
    for code in (image.header["qform_code"], image.header["sform_code"]):
        assert int(code) == 1
    np.testing.assert_allclose(image.affine, AFFINE)
    assert image.header.get_xyzt_units() == ("mm", "sec")


def test_label_maps_carry_the_same_geometry_headers(small_phantom: Phantom,
                                                    tmp_path: Path) -> None:
    nifti, sidecar = write_label_map(small_phantom.labels, tmp_path / "labels.nii.gz")
    image = _load(nifti)
    assert int(image.header["qform_code"]) == int(image.header["sform_code"]) == 1
    assert image.header.get_intent()[0] == "label"
    assert image.get_data_dtype() == np.uint8
    assert sidecar.name == "labels.json"


def test_itk_images_are_lps_with_iris_voxel_order(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    image = to_itk(array, AFFINE)
    assert image.GetSize() == (2, 3, 4)  # ITK's (x, y, z) is Iris's (i, j, k)
    # RAS (120, -90, 40) is LPS (-120, 90, 40); a RAS x axis pointing left points +L in LPS.
    np.testing.assert_allclose(image.GetOrigin(), (-120.0, 90.0, 40.0))
    np.testing.assert_allclose(image.GetSpacing(), (0.8, 0.8, 2.5))
    np.testing.assert_allclose(image.GetDirection(), (1, 0, 0, 0, -1, 0, 0, 0, 1))
    assert image[1, 2, 3] == array[1, 2, 3]
    path = write_itk(array, AFFINE, tmp_path / "ct.nrrd")
    assert path.stat().st_size > 0
