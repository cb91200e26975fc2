"""`compare_studies` and `iris compare` on a phantom and its follow-up, whose changes we know:
the liver grown by 20 %, the left kidney removed, the patient turned and shifted on the table."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from iris3d.cli.app import build_app
from iris3d.compare import NoCommonStructuresError, compare_volumes
from iris3d.contracts import Stage
from iris3d.export import read_glb
from iris3d.labelio import write_label_map
from iris3d.phantom import Phantom, make_phantom
from iris3d.phantom.files import write_nifti
from iris3d.phantom.pair import FollowUp, make_follow_up
from iris3d.pipeline import (
    ComparisonResult,
    OutputExistsError,
    ProcessOptions,
    StudyFolderError,
    compare_studies,
    comparison_fraction,
    process_study,
)
from iris3d.volume import CTVolume, LabelMap

UNCHANGED = ("spleen", "kidney_right", "heart", "stomach", "aorta", "urinary_bladder")


@dataclass(frozen=True)
class Case:
    base: Phantom
    follow: FollowUp
    base_dir: Path
    follow_dir: Path
    result: ComparisonResult
    stages: list[tuple[Stage, float]]

    def rows(self) -> dict[str, dict[str, object]]:
        document = json.loads(self.result.files["comparison_json"].read_text())
        return {row["name"]: row for row in document["structures"]}


def _processed(phantom: Phantom, folder: Path) -> Path:
    folder.mkdir(parents=True)
    ct = write_nifti(phantom.ct, folder / "scan.nii.gz")
    labels = write_nifti(phantom.labels, folder / "truth_labels.nii.gz")
    out = folder / "processed"
    process_study(ct, out, options=ProcessOptions(engine="import", segmentation=labels))
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("compare")
    base = make_phantom(shape=(80, 72, 64), spacing=(4.5, 4.5, 4.5))
    follow = make_follow_up(base, grow={"liver": 1.20}, remove=["kidney_left"],
                            rotation_deg=(3.0, -2.0, 4.0), shift_mm=(8.0, -5.0, 12.0))
    base_dir, follow_dir = _processed(base, root / "a"), _processed(follow, root / "b")
    stages: list[tuple[Stage, float]] = []
    result = compare_studies(base_dir, follow_dir, root / "out",
                             progress=lambda stage, f, message: stages.append((stage, f)))
    return Case(base, follow, base_dir, follow_dir, result, stages)


def test_volumes_match_the_known_changes(case: Case) -> None:
    rows = case.rows()
    liver = rows["liver"]
    truth = case.follow.truth["liver"].volume_ml / case.base.truth["liver"].volume_ml
    assert liver["status"] == "both"
    assert liver["change_percent"] == pytest.approx(20.0, abs=2.0)
    assert 1 + liver["change_percent"] / 100 == pytest.approx(truth, rel=0.002)  # the voxels'
    assert liver["change_ml"] == pytest.approx(liver["volume_follow_ml"] - liver["volume_base_ml"],
                                               abs=0.01)
    # The patient's LEFT kidney (x < 0 in RAS+) is gone; the right one is still there.
    kidney = rows["kidney_left"]
    assert kidney["status"] == "disappeared" and kidney["volume_follow_ml"] == 0.0
    assert kidney["change_percent"] == -100.0 and kidney["distance_mm"] is None
    assert kidney["centroid_base_ras_mm"][0] < 0 < rows["kidney_right"]["centroid_base_ras_mm"][0]
    assert kidney["hu_mean_follow"] is None
    assert rows["kidney_right"]["status"] == "both"
    for name in UNCHANGED:
        assert abs(rows[name]["change_percent"]) < 2.0, name
        assert rows[name]["hu_mean_base"] == pytest.approx(case.base.truth[name].mean_hu, abs=1.0)
    # Largest change first: the liver, then the kidney.
    assert list(rows)[:2] == ["liver", "kidney_left"]
    assert set(rows) == set(case.base.truth) | set(case.follow.truth)


def test_registration_recovers_the_motion_and_says_it_is_good(case: Case) -> None:
    document = json.loads(case.result.files["comparison_json"].read_text())
    matrix = np.array(document["registration"]["matrix_follow_to_base_ras"])
    truth = case.follow.follow_to_base
    turn = matrix[:3, :3] @ truth[:3, :3].T
    angle = np.degrees(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1)))
    assert angle < 1.0
    points = np.array([t.centroid_ras for t in case.follow.truth.values()])
    moved = points @ matrix[:3, :3].T + matrix[:3, 3]
    expected = points @ truth[:3, :3].T + truth[:3, 3]
    assert np.linalg.norm(moved - expected, axis=1).max() < 2.0
    alignment = document["alignment"]
    assert alignment["verdict"] == "good", alignment["message"]
    assert alignment["median_dice"] > 0.9
    assert case.result.summary["alignment"] == "good"
    assert document["registration"]["initialisation"] == "centroids"


def test_distance_map_shows_where_the_liver_grew(case: Case) -> None:
    rows = case.rows()
    liver = rows["liver"]["distance_mm"]
    assert liver["mean"] > 2.0  # grown by ~6 % in each direction: 2-6 mm at 4.5 mm voxels
    assert liver["mean"] > rows["spleen"]["distance_mm"]["p95"]
    for name in UNCHANGED:
        assert abs(rows[name]["distance_mm"]["mean"]) < 1.0, name

    study = read_glb(case.result.files["comparison_glb"])
    structures = {s.name: s for s in study.structures}
    assert set(structures) == set(case.follow.truth)  # the follow-up's structures
    grown = structures["liver"]
    assert grown.signed_distance is not None and len(grown.signed_distance) == len(
        grown.vertices_ras)
    assert grown.extras["status"] == "both" and grown.extras["distance_mm"] == liver
    assert np.mean(grown.signed_distance) > 2.0
    # The surfaces are in the base's frame: the follow-up's spleen lies on the base's.
    spleen = structures["spleen"].vertices_ras.mean(axis=0)
    np.testing.assert_allclose(spleen, case.base.truth["spleen"].centroid_ras, atol=4.5)


def test_files_progress_and_summary(case: Case) -> None:
    files = case.result.files
    assert set(files) == {"comparison_json", "comparison_csv", "comparison_glb"}
    assert {p.name for p in case.result.output_dir.iterdir()} == {
        "comparison.json", "comparison.csv", "comparison.glb"}
    assert not [p for p in case.result.output_dir.parent.iterdir() if p.name.startswith(".")]
    with files["comparison_csv"].open() as handle:
        table = list(csv.DictReader(handle))
    assert [r["name"] for r in table] == list(case.rows())
    assert table[1]["status"] == "disappeared" and table[1]["distance_mean_mm"] == ""

    order = [stage for n, (stage, _) in enumerate(case.stages)
             if n == 0 or case.stages[n - 1][0] is not stage]
    assert order == [Stage.INGEST, Stage.REGISTER, Stage.COMPARE, Stage.EXPORT]
    overall = [comparison_fraction(stage, f) for stage, f in case.stages]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0)
    summary = case.result.summary
    assert summary["structures"] == {"both": len(case.follow.truth), "appeared": 0,
                                     "disappeared": 1}
    assert summary["largest_changes"][0]["name"] == "liver"  # type: ignore[index]
    assert set(summary["timings_s"]) >= {"ingest", "register", "compare"}  # type: ignore[arg-type]


def test_a_mirrored_follow_up_is_reported_poor(case: Case) -> None:
    """Left and right swapped (a study whose orientation was lost): no rigid motion fixes it."""
    ct, labels = case.follow.ct, case.follow.labels
    mirrored = compare_volumes(
        case.base.ct, case.base.labels,
        CTVolume(np.ascontiguousarray(ct.array[::-1]), ct.affine),
        LabelMap(np.ascontiguousarray(labels.array[::-1]), labels.affine, labels.table))
    assert mirrored.alignment.verdict == "poor", mirrored.alignment.message
    assert "volumes are still valid" in mirrored.alignment.message
    liver = next(c for c in mirrored.changes if c.name == "liver")
    assert liver.change_percent == pytest.approx(20.0, abs=2.0)  # volumes need no alignment


def test_bad_inputs_are_refused_with_clear_messages(case: Case, tmp_path: Path) -> None:
    with pytest.raises(StudyFolderError, match="is not a folder"):
        compare_studies(tmp_path / "nowhere", case.follow_dir, tmp_path / "o1")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "ct.nii.gz").write_bytes((case.base_dir / "ct.nii.gz").read_bytes())
    with pytest.raises(StudyFolderError, match=r"labels\.nii\.gz"):
        compare_studies(partial, case.follow_dir, tmp_path / "o2")
    # A CT where the label map should be: negative "labels" are not a label map.
    (partial / "labels.nii.gz").write_bytes((case.base_dir / "ct.nii.gz").read_bytes())
    with pytest.raises(StudyFolderError, match=r"partial: labels\.nii\.gz: label ids must not be"):
        compare_studies(partial, case.follow_dir, tmp_path / "o3")
    # The same voxels under names the base does not use.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    (renamed / "ct.nii.gz").write_bytes((case.follow_dir / "ct.nii.gz").read_bytes())
    labels = case.follow.labels
    other = LabelMap(labels.array, labels.affine,
                     labels.table.from_names({i: f"thing_{i}" for i in labels.table}))
    write_label_map(other, renamed / "labels.nii.gz")
    with pytest.raises(NoCommonStructuresError, match="share no structure"):
        compare_studies(case.base_dir, renamed, tmp_path / "o4")
    with pytest.raises(OutputExistsError):
        compare_studies(case.base_dir, case.follow_dir, case.result.output_dir)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".", "o"))]


def test_iris_compare_command(case: Case, tmp_path: Path) -> None:
    runner = CliRunner()
    app = build_app()
    args = ["compare", str(case.base_dir), str(case.follow_dir), str(tmp_path / "out")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Alignment is good" in result.output
    assert "liver" in result.output and "disappeared" in result.output
    assert (tmp_path / "out" / "comparison.glb").is_file()
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output
