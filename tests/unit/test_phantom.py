"""The phantom is the truth every other test relies on: check that it is what it claims."""

import numpy as np
import pytest

from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.shapes import HU_BONE, HU_FAT, HU_LUNG


def test_liver_right_spleen_left_and_right_lung_larger(small_phantom: Phantom) -> None:
    truth = small_phantom.truth
    centre_x = small_phantom.ct.affine[0, 3] + small_phantom.ct.affine[0, 0] * 23.5
    # RAS+: the patient's right is +x.
    assert truth["liver"].centroid_ras[0] > centre_x + 20
    assert truth["spleen"].centroid_ras[0] < centre_x - 20
    assert truth["kidney_right"].centroid_ras[0] > centre_x > truth["kidney_left"].centroid_ras[0]
    right = sum(t.volume_ml for n, t in truth.items() if n.startswith("lung") and "right" in n)
    left = sum(t.volume_ml for n, t in truth.items() if n.startswith("lung") and "left" in n)
    assert right > 1.2 * left
    # Superior is +z: lungs above the liver, liver above the bladder.
    assert truth["lung_upper_lobe_right"].centroid_ras[2] > truth["liver"].centroid_ras[2]
    assert truth["liver"].centroid_ras[2] > truth["urinary_bladder"].centroid_ras[2]
    # Anterior is +y: the heart in front of the spine.
    assert truth["heart"].centroid_ras[1] > truth["vertebrae_L1"].centroid_ras[1]


def test_hounsfield_units_are_realistic(small_phantom: Phantom) -> None:
    ct, labels = small_phantom.ct.array, small_phantom.labels
    assert ct.dtype == np.int16
    assert ct.min() == -1000  # air around the body
    assert np.all(ct[labels.array == labels.table.by_name("lung_upper_lobe_left").label] == HU_LUNG)
    assert np.all(ct[labels.array == labels.table.by_name("vertebrae_L2").label] == HU_BONE)
    assert np.count_nonzero(ct == HU_FAT) > 0  # subcutaneous fat ring


def test_truth_matches_the_label_voxels(small_phantom: Phantom) -> None:
    labels = small_phantom.labels
    for name, truth in small_phantom.truth.items():
        mask = labels.array == truth.label
        assert labels.table[truth.label].name == name
        assert int(mask.sum()) == truth.voxel_count
        ijk = np.argwhere(mask).mean(axis=0)
        xyz = labels.affine[:3, :3] @ ijk + labels.affine[:3, 3]
        np.testing.assert_allclose(xyz, truth.centroid_ras, atol=1e-6)
        assert truth.volume_ml == pytest.approx(truth.voxel_count * 0.512)  # 8 mm voxels, mL


def test_size_and_spacing_are_configurable_and_noise_is_seeded() -> None:
    a = make_phantom(shape=(40, 36, 30), spacing=(7.0, 7.0, 9.0), noise_hu=20, seed=3)
    b = make_phantom(shape=(40, 36, 30), spacing=(7.0, 7.0, 9.0), noise_hu=20, seed=3)
    assert a.ct.shape == (40, 36, 30)
    assert a.ct.spacing == (7.0, 7.0, 9.0)
    assert np.array_equal(a.ct.array, b.ct.array)
    assert np.array_equal(a.labels.array, b.labels.array)
    assert a.ct.array.std() > 0


def test_enough_structures_for_benchmarks() -> None:
    phantom = make_phantom(shape=(96, 96, 160), spacing=(4.0, 4.0, 2.0))
    assert len(phantom.truth) >= 40
