"""The comparison's parts on cases whose answer we know: Kabsch, signed distances, LPS/RAS in
the registration, the alignment verdict, the follow-up phantom and the progress weights."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from tests.support.mesh_cases import sphere_labels

from iris3d.anatomy import LabelTable
from iris3d.compare import (
    assess_alignment,
    compare_volumes,
    measure_structures,
    register_studies,
    rigid_fit,
    signed_distance_field,
    surface_signed_distance,
)
from iris3d.compare.distance import summarise, surface_samples
from iris3d.compare.register import _itk_image
from iris3d.contracts import Stage
from iris3d.export import encode_glb, read_glb
from iris3d.geometry import itk_geometry, points_ras_to_lps, transform_lps_to_ras
from iris3d.mesh import FAST, build_meshes
from iris3d.phantom import make_phantom
from iris3d.phantom.files import reorient
from iris3d.phantom.pair import make_follow_up, rigid_motion
from iris3d.pipeline import comparison_fraction, overall_fraction
from iris3d.pipeline.progress import STAGE_WEIGHTS
from iris3d.volume import CTVolume, LabelMap


def test_rigid_fit_recovers_a_known_motion_and_never_mirrors() -> None:
    rng = np.random.default_rng(4)
    points = rng.uniform(-100, 100, size=(12, 3))
    motion = rigid_motion((10.0, -25.0, 40.0), (5.0, -7.0, 30.0), [1.0, 2.0, 3.0])
    moved = points @ motion[:3, :3].T + motion[:3, 3]
    np.testing.assert_allclose(rigid_fit(points, moved), motion, atol=1e-9)
    mirrored = moved * [-1, 1, 1]
    fit = rigid_fit(points, mirrored)
    assert np.linalg.det(fit[:3, :3]) == pytest.approx(1.0)


@pytest.mark.parametrize("spacing", [(2.0, 2.0, 2.0), (1.5, 1.5, 3.0)])
@pytest.mark.parametrize("radius", [14.0, 26.0])
def test_signed_distance_of_a_grown_or_shrunk_sphere(
    spacing: tuple[float, float, float], radius: float
) -> None:
    """A 20 mm ball against a ball of ``radius`` about the same centre: every vertex of the
    second lies ``radius - 20`` mm from the first's surface, to within half a voxel."""
    base = sphere_labels(20.0, spacing=spacing)
    other = sphere_labels(radius, spacing=spacing)
    (mesh,) = build_meshes(other, FAST)
    points, weights = surface_samples(mesh.vertices, mesh.faces)
    summary = summarise(surface_signed_distance(base, 5, points), weights)
    assert weights.sum() == pytest.approx(mesh.surface_area_mm2)
    half_voxel = 0.5 * min(spacing)
    assert summary.mean_mm == pytest.approx(radius - 20.0, abs=half_voxel)
    assert summary.p5_mm > radius - 20.0 - 2 * half_voxel
    assert summary.p95_mm < radius - 20.0 + 2 * half_voxel


def test_signed_distance_field_crosses_zero_on_voxel_faces() -> None:
    mask = np.zeros((9, 5, 5), dtype=bool)
    mask[3:6] = True
    for spacing in ((2.0, 2.0, 2.0), (2.0, 1.0, 3.0)):
        field = signed_distance_field(mask, spacing)
        # A slab three 2 mm voxels thick along x: the centres next to its faces are 1 mm from
        # them, the middle one 3 mm, whatever the spacing along the other axes.
        np.testing.assert_allclose(field[:, 2, 2], [5, 3, 1, -1, -3, -1, 1, 3, 5],
                                   atol=1e-6)


def test_points_far_outside_the_grid_keep_growing() -> None:
    base = sphere_labels(10.0, spacing=(2.0, 2.0, 2.0))
    centre = np.array([30.0, -20.0, 50.0])
    far = centre + np.array([[0.0, 0.0, 200.0], [0.0, 0.0, 100.0]])
    distances = surface_signed_distance(base, 5, far)
    assert distances[0] > distances[1] > 80.0


def test_itk_images_and_transforms_are_in_lps_with_any_direction() -> None:
    phantom = make_phantom(shape=(24, 20, 16), spacing=(5.0, 6.0, 7.0))
    array, affine = reorient(phantom.ct.array, phantom.ct.affine, "PIL")
    turn = rigid_motion((0.0, 0.0, 20.0), (0.0, 0.0, 0.0), [0.0, 0.0, 0.0])
    affine = turn @ affine  # oblique: the direction is neither identity nor a flip
    image = _itk_image(CTVolume(np.ascontiguousarray(array), affine))
    ijk = np.array([3.0, 5.0, 7.0])
    ras = affine[:3, :3] @ ijk + affine[:3, 3]
    np.testing.assert_allclose(image.TransformContinuousIndexToPhysicalPoint(ijk.tolist()),
                               points_ras_to_lps(ras[None])[0], atol=1e-6)
    assert image[3, 5, 7] == pytest.approx(float(array[3, 5, 7]))
    origin, spacing, _ = itk_geometry(affine)
    assert sorted(spacing) == pytest.approx([5.0, 6.0, 7.0])
    assert origin == pytest.approx(points_ras_to_lps(affine[:3, 3][None])[0].tolist())
    # A shift of +10 mm along LPS x (to the patient's left) is -10 mm along RAS x.
    shift = sitk.TranslationTransform(3, (10.0, 0.0, 0.0))
    lps = np.eye(4)
    lps[:3, 3] = shift.GetOffset()
    np.testing.assert_allclose(transform_lps_to_ras(lps)[:3, 3], [-10.0, 0.0, 0.0])


def test_registration_finds_an_oblique_stored_copy() -> None:
    """The same patient stored with voxels in LPS order on an affine turned by 6 degrees, its
    structures numbered differently: the follow-up -> base transform is exactly that turn,
    and registration must find it (structures are matched by name)."""
    phantom = make_phantom(shape=(64, 56, 48), spacing=(6.0, 6.0, 6.0))
    turn = rigid_motion((2.0, 0.0, 6.0), (4.0, -3.0, 5.0), phantom.truth["liver"].centroid_ras)
    ct_array, ct_affine = reorient(phantom.ct.array, turn @ phantom.ct.affine, "LPS")
    label_array, _ = reorient(phantom.labels.array, turn @ phantom.labels.affine, "LPS")
    renumber = np.arange(256, dtype=np.uint8)
    renumber[1:] = renumber[1:] + 100  # every id moved (names kept)
    table = LabelTable.from_names({i + 100: s.name for i, s in phantom.labels.table.items()})
    follow_ct = CTVolume(ct_array, ct_affine)
    follow_labels = LabelMap(renumber[label_array], ct_affine, table)
    base = measure_structures(phantom.ct, phantom.labels)
    follow = measure_structures(follow_ct, follow_labels)
    found = register_studies(phantom.ct, base, follow_ct, follow)
    points = np.array([t.centroid_ras for t in phantom.truth.values()])
    moved = points @ turn[:3, :3].T + turn[:3, 3]  # where the follow-up has them
    back = moved @ found.matrix[:3, :3].T + found.matrix[:3, 3]
    assert np.linalg.norm(back - points, axis=1).max() < 1.5
    alignment = assess_alignment(phantom.labels, base, follow_labels, follow, found.matrix)
    assert alignment.verdict == "good" and alignment.median_dice > 0.95


@pytest.mark.parametrize(("shift_mm", "verdict"), [(0.0, "good"), (9.0, "fair"), (40.0, "poor")])
def test_alignment_verdict_follows_the_misalignment(shift_mm: float, verdict: str) -> None:
    base = make_phantom(shape=(64, 56, 48), spacing=(5.0, 5.0, 5.0))
    follow = make_follow_up(base, rotation_deg=(0.0, 0.0, 5.0), shift_mm=(10.0, 0.0, 0.0))
    off = rigid_motion((0.0, 0.0, 0.0), (shift_mm, 0.0, 0.0), [0.0, 0.0, 0.0])
    alignment = assess_alignment(
        base.labels, measure_structures(base.ct, base.labels), follow.labels,
        measure_structures(follow.ct, follow.labels), off @ follow.follow_to_base)
    assert alignment.verdict == verdict, alignment.message
    assert alignment.message.startswith(f"Alignment is {verdict}")


def test_a_follow_up_covering_less_of_the_body_still_aligns_well() -> None:
    """Follow-ups rarely cover the same range: the second scan stops lower. What it did not
    cover is no misalignment: Dice counts the shared field of view, and the centroids of the
    structures it cuts (which move with the coverage) are left out of the verdict."""
    base = make_phantom(shape=(64, 56, 48), spacing=(5.0, 5.0, 5.0))
    keep = slice(0, 30)  # the follow-up ends 18 slices (9 cm) lower
    follow_ct = CTVolume(base.ct.array[:, :, keep], base.ct.affine)
    follow_labels = LabelMap(base.labels.array[:, :, keep], base.labels.affine, base.labels.table)
    base_measures = measure_structures(base.ct, base.labels)
    follow_measures = measure_structures(follow_ct, follow_labels)
    cut = {n for n, m in follow_measures.items() if m.at_scan_edge}
    assert cut and not (cut & {n for n, m in base_measures.items() if m.at_scan_edge})
    alignment = assess_alignment(base.labels, base_measures, follow_labels, follow_measures,
                                 np.eye(4))
    assert alignment.verdict == "good", alignment.message
    assert alignment.median_dice == pytest.approx(1.0)
    scores = alignment.by_name()
    assert all(not scores[n].whole for n in cut)
    assert max(scores[n].centroid_residual_mm for n in cut) > 10  # what was left out, and why
    assert alignment.median_centroid_residual_mm == pytest.approx(0.0, abs=1e-6)
    # Nothing changed: the flat caps where the follow-up's scan cut the lungs and the spine are
    # no change either, so the surface distances stay within about a voxel.
    comparison = compare_volumes(base.ct, base.labels, follow_ct, follow_labels)
    for change in comparison.changes:
        if change.name in cut and change.distance is not None:
            assert abs(change.distance.mean_mm) < 2.5, change
            assert change.distance.p5_mm > -5.0 and change.distance.p95_mm < 5.0, change
    # The viewer is told which vertices are those caps (it greys them out): the cut structures'
    # top vertices, and no vertex of a structure the scan saw whole.
    glb = {s.name: s for s in read_glb(encode_glb(comparison.meshes)).structures}
    top_mm = follow_ct.affine[2, 3] + follow_ct.affine[2, 2] * (follow_ct.shape[2] - 1)
    for name in cut & set(glb):
        edge = glb[name].scan_edge
        assert edge is not None and edge.any(), name
        assert glb[name].vertices_ras[edge, 2].min() > top_mm - 2 * 5.0, name
    assert glb["liver"].scan_edge is None and glb["liver"].signed_distance is not None


def test_follow_up_phantom_grows_removes_and_moves() -> None:
    base = make_phantom(shape=(64, 56, 48), spacing=(5.0, 5.0, 5.0))
    follow = make_follow_up(base, grow={"liver": 1.3, "spleen": 0.8}, remove=["kidney_left"],
                            rotation_deg=(0.0, 5.0, 0.0), shift_mm=(0.0, 10.0, -20.0))
    ratio = {n: follow.truth[n].volume_ml / base.truth[n].volume_ml for n in ("liver", "spleen")}
    assert ratio["liver"] == pytest.approx(1.3, rel=0.02)
    assert ratio["spleen"] == pytest.approx(0.8, rel=0.02)
    assert "kidney_left" not in follow.truth and "kidney_right" in follow.truth
    assert follow.ct.shape != base.ct.shape  # a grid that holds the whole moved patient
    heart_base = np.array(base.truth["heart"].centroid_ras)
    heart_follow = np.array(follow.truth["heart"].centroid_ras)
    expected = follow.base_to_follow[:3, :3] @ heart_base + follow.base_to_follow[:3, 3]
    np.testing.assert_allclose(heart_follow, expected, atol=2.5)
    kidney = base.labels.array == base.labels.table.by_name("kidney_left").label
    assert follow.truth["heart"].volume_ml == pytest.approx(base.truth["heart"].volume_ml,
                                                            rel=0.02)
    assert kidney.any()
    unmoved = make_follow_up(base)
    np.testing.assert_array_equal(unmoved.labels.array, base.labels.array)
    np.testing.assert_allclose(unmoved.ct.affine, base.ct.affine)


def test_study_weights_are_unchanged_and_comparisons_have_their_own() -> None:
    study = [Stage.INGEST, Stage.SEGMENT, Stage.MESH, Stage.EXPORT, Stage.STATS]
    assert sum(STAGE_WEIGHTS[s] for s in study) == pytest.approx(1.0)
    assert STAGE_WEIGHTS[Stage.REGISTER] == STAGE_WEIGHTS[Stage.COMPARE] == 0.0
    steps = [overall_fraction(s, f) for s in study for f in (0.0, 0.5, 1.0)]
    assert steps == sorted(steps) and steps[0] == 0.0 and steps[-1] == pytest.approx(1.0)
    assert overall_fraction(Stage.MESH, 0.0) == pytest.approx(0.65)
    compare = [Stage.INGEST, Stage.REGISTER, Stage.COMPARE, Stage.EXPORT]
    steps = [comparison_fraction(s, f) for s in compare for f in (0.0, 0.5, 1.0)]
    assert steps == sorted(steps) and steps[0] == 0.0 and steps[-1] == pytest.approx(1.0)


def test_a_failed_refinement_keeps_the_first_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> float:
        raise RuntimeError("All samples map outside moving image buffer")

    monkeypatch.setattr("iris3d.compare.register._refine", fail)
    phantom = make_phantom(shape=(32, 28, 24), spacing=(10.0, 10.0, 10.0))
    measures = measure_structures(phantom.ct, phantom.labels)
    found = register_studies(phantom.ct, measures, phantom.ct, measures)
    assert not found.refined and found.to_dict()["metric_value"] is None
    np.testing.assert_allclose(found.matrix, found.initial.matrix)
    np.testing.assert_allclose(found.matrix, np.eye(4), atol=1e-9)
