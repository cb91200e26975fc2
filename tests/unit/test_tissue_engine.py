"""The built-in tissue engine recovers what the phantom holds, and the real sample's lungs/bone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from iris3d.anatomy import LabelTable
from iris3d.contracts import Quality
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.build import TABLE_HU
from iris3d.segment.tissue import TissueEngine, tissue_table
from iris3d.volume import CTVolume


def dice(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    return 2.0 * np.count_nonzero(a & b) / max(1, np.count_nonzero(a) + np.count_nonzero(b))


def truth_of(table: LabelTable, array: npt.NDArray[np.integer], pick: str) -> npt.NDArray[np.bool_]:
    """Union of the truth's structures: ``lung_left``/``lung_right`` (their lobes) or ``bone``."""
    if pick == "bone":
        ids = [s.label for s in table.values() if s.group == "skeleton"]
    else:
        side = pick.split("_")[1]
        ids = [s.label for s in table.values()
               if s.name.startswith("lung_") and s.name.endswith(side)]
    return np.isin(array, ids)


def ours(result_labels: npt.NDArray[np.integer], name: str) -> npt.NDArray[np.bool_]:
    mask: npt.NDArray[np.bool_] = result_labels == tissue_table().by_name(name).label
    return mask


@pytest.fixture(scope="module")
def noisy_phantom() -> Phantom:
    return make_phantom(shape=(96, 84, 64), spacing=(4.0, 4.0, 4.0), noise_hu=15.0, seed=3)


@pytest.mark.parametrize("phantom_name", ["small_phantom", "noisy_phantom"])
def test_recovers_the_phantoms_lungs_bone_and_body(
    phantom_name: str, request: pytest.FixtureRequest
) -> None:
    phantom: Phantom = request.getfixturevalue(phantom_name)
    result = TissueEngine().segment(phantom.ct, Quality.FAST)
    labels, truth, table = result.labels.array, phantom.labels.array, phantom.labels.table
    assert result.labels.matches(phantom.ct)
    assert dice(ours(labels, "lung_left"), truth_of(table, truth, "lung_left")) >= 0.95
    assert dice(ours(labels, "lung_right"), truth_of(table, truth, "lung_right")) >= 0.95
    assert dice(ours(labels, "skeleton"), truth_of(table, truth, "bone")) >= 0.95
    trachea = truth == table.by_name("trachea").label
    airway = np.isin(labels, [tissue_table().by_name(n).label
                              for n in ("trachea", "bronchus_left", "bronchus_right")])
    assert dice(airway, trachea) >= 0.9
    # body: every structure, fat and soft tissue; never the table under the patient
    clean = make_phantom(shape=phantom.ct.shape, spacing=phantom.ct.spacing).ct.array
    table_slab = clean == TABLE_HU
    body_truth = (truth > 0) | ((clean > -500) & ~table_slab)
    assert dice(labels > 0, body_truth) >= 0.95
    assert not np.any(labels[table_slab] > 0)


def test_sides_follow_the_patient_not_the_array(small_phantom: Phantom) -> None:
    """Mirror the voxels left-right but keep the affine: the bigger lung is now on the patient's
    left (-x), and the engine must call it left."""
    ct = small_phantom.ct
    mirrored = CTVolume(array=np.ascontiguousarray(ct.array[::-1]), affine=ct.affine)
    labels = TissueEngine().segment(mirrored, Quality.FAST).labels.array
    left, right = ours(labels, "lung_left").sum(), ours(labels, "lung_right").sum()
    assert left > 1.2 * right
    # and with the axis itself pointing left (a flipped affine), it is right again
    flipped = ct.affine.copy()
    flipped[0, 0] *= -1
    flipped[0, 3] = ct.affine[0, 3] + ct.affine[0, 0] * (ct.shape[0] - 1)
    relabelled = TissueEngine().segment(
        CTVolume(array=mirrored.array, affine=flipped), Quality.FAST
    ).labels.array
    assert ours(relabelled, "lung_right").sum() > 1.2 * ours(relabelled, "lung_left").sum()


def test_abdomen_only_has_no_lungs_or_trachea(small_phantom: Phantom) -> None:
    ct = small_phantom.ct
    airy = np.isin(small_phantom.labels.array, [
        s.label for s in small_phantom.labels.table.values()
        if s.name.startswith(("lung", "trachea"))
    ])
    lowest_lung = int(np.flatnonzero(airy.any(axis=(0, 1))).min())
    cropped = CTVolume(array=ct.array[:, :, : lowest_lung - 1].copy(), affine=ct.affine)
    labels = TissueEngine().segment(cropped, Quality.FAST).labels.array
    for name in ("lung_left", "lung_right", "trachea", "bronchus_left", "bronchus_right"):
        assert not ours(labels, name).any(), name


def test_result_describes_the_run(small_phantom: Phantom) -> None:
    steps: list[tuple[float, str]] = []
    result = TissueEngine().segment(small_phantom.ct, Quality.FASTEST,
                                    lambda f, m: steps.append((f, m)))
    assert result.engine == "tissue" and result.device == "cpu"
    assert result.parameters["quality"] == "fastest"
    assert result.timings_s["total"] > 0
    assert [f for f, _ in steps] == sorted(f for f, _ in steps)
    assert steps[-1][0] == 1.0
    assert set(result.labels.table) == set(tissue_table())


def test_empty_field_of_view_gives_an_empty_map() -> None:
    air = CTVolume(array=np.full((20, 20, 10), -1000, np.int16), affine=np.eye(4))
    assert not TissueEngine().segment(air, Quality.FAST).labels.array.any()


def test_real_sample_meets_the_dice_goals(shared_data: Path) -> None:
    """TotalSegmentator's own output for its example CT is the reference (lungs = union of the
    lobes per side, bone = every skeleton class)."""
    from iris3d.ingest import load_study
    from iris3d.labelio import read_label_map

    volume = load_study(shared_data / "example_ct_sm.nii.gz")
    reference = read_label_map(shared_data / "example_seg.nii.gz")
    labels = TissueEngine().segment(volume, Quality.FAST).labels.array
    truth, table = reference.array, reference.table
    assert dice(ours(labels, "lung_left"), truth_of(table, truth, "lung_left")) >= 0.95
    assert dice(ours(labels, "lung_right"), truth_of(table, truth, "lung_right")) >= 0.95
    assert dice(ours(labels, "skeleton"), truth_of(table, truth, "bone")) >= 0.85
    assert not ours(labels, "trachea").any()  # an abdominal study: no airway in view
