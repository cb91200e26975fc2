"""Per-structure statistics against the phantom's truth, and their JSON and CSV files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from tests.support.mesh_cases import phantom, phantom_meshes, reoriented

from iris3d.stats import (
    GridMismatchError,
    StructureStats,
    compute_statistics,
    write_statistics_csv,
    write_statistics_json,
)
from iris3d.stats.measures import hu_summary
from iris3d.volume import CTVolume, LabelMap


@pytest.fixture(scope="module")
def stats() -> dict[str, StructureStats]:
    p = phantom()
    return {s.name: s for s in compute_statistics(p.ct, p.labels, list(phantom_meshes()))}


def test_voxel_measures_match_the_truth(stats: dict[str, StructureStats]) -> None:
    p = phantom()
    assert set(stats) == set(p.truth)
    for name, truth in p.truth.items():
        s = stats[name]
        assert s.voxel_count == truth.voxel_count
        assert s.voxel_volume_ml == pytest.approx(truth.volume_ml)
        np.testing.assert_allclose(s.centroid_ras_mm, truth.centroid_ras, atol=1e-3)
        assert s.hu_mean == pytest.approx(truth.mean_hu, abs=1e-6)
        assert s.mesh_volume_ml is not None
        if truth.volume_ml > 10:
            assert s.mesh_volume_ml == pytest.approx(truth.volume_ml, rel=0.02)
        assert s.watertight is True and s.triangle_count and s.surface_area_mm2


def test_hounsfield_spread_and_box(stats: dict[str, StructureStats]) -> None:
    p = phantom()
    liver = stats["liver"]
    values = p.ct.array[p.labels.array == liver.label].astype(np.float64)
    assert liver.hu_std == pytest.approx(values.std())
    assert 10 < liver.hu_std < 20  # the phantom's 15 HU noise
    assert liver.hu_median == pytest.approx(np.median(values))
    assert liver.hu_p5 == pytest.approx(np.percentile(values, 5))
    assert liver.hu_p95 == pytest.approx(np.percentile(values, 95))
    low, high = np.array(liver.bbox_min_ras_mm), np.array(liver.bbox_max_ras_mm)
    assert np.all(low < liver.centroid_ras_mm) and np.all(liver.centroid_ras_mm < high)
    assert stats["liver"].centroid_ras_mm[0] > 0 > stats["spleen"].centroid_ras_mm[0] - 12


def test_without_meshes_and_in_another_voxel_order() -> None:
    p = phantom()
    labels = reoriented(p.labels, (0, 1), (2, 0, 1))
    hu = np.ascontiguousarray(np.transpose(p.ct.array[::-1, ::-1], (2, 0, 1)))
    liver = next(s for s in compute_statistics(CTVolume(hu, labels.affine), labels)
                 if s.name == "liver")
    assert liver.mesh_volume_ml is None and liver.watertight is None
    np.testing.assert_allclose(liver.centroid_ras_mm, p.truth["liver"].centroid_ras, atol=1e-3)
    assert liver.voxel_count == p.truth["liver"].voxel_count


def test_grids_must_match() -> None:
    p = phantom()
    shifted = p.labels.affine.copy()
    shifted[0, 3] += 5.0
    with pytest.raises(GridMismatchError, match="same voxel grid"):
        compute_statistics(p.ct, LabelMap(p.labels.array, shifted, p.labels.table))


def test_json_and_csv_files(stats: dict[str, StructureStats], tmp_path: Path) -> None:
    rows = list(stats.values())
    write_statistics_json(rows, tmp_path / "stats.json")
    write_statistics_csv(rows, tmp_path / "stats.csv")
    document = json.loads((tmp_path / "stats.json").read_text())
    assert document["units"]["voxel_volume_ml"] == "mL"
    liver = next(s for s in document["structures"] if s["name"] == "liver")
    assert liver["voxel_volume_ml"] == pytest.approx(stats["liver"].voxel_volume_ml)
    assert liver["centroid_ras_mm"] == list(stats["liver"].centroid_ras_mm)
    with (tmp_path / "stats.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(rows)
    row = next(r for r in table if r["name"] == "liver")
    assert float(row["centroid_x_ras_mm"]) == pytest.approx(stats["liver"].centroid_ras_mm[0])
    assert row["watertight"] == "True" and int(row["voxel_count"]) == stats["liver"].voxel_count


def test_an_integer_and_a_float_ct_give_the_same_hounsfield_figures() -> None:
    # An integer CT's HU are summarised from a histogram; a float CT's from its values.
    p = phantom()
    as_float = CTVolume(p.ct.array.astype(np.float64), p.ct.affine)
    assert p.ct.array.dtype.kind == "i"
    for whole, floating in zip(compute_statistics(p.ct, p.labels),
                               compute_statistics(as_float, p.labels), strict=True):
        assert (whole.hu_median, whole.hu_p5, whole.hu_p95) == pytest.approx(
            (floating.hu_median, floating.hu_p5, floating.hu_p95), abs=1e-9)
        assert whole.hu_mean == pytest.approx(floating.hu_mean, rel=1e-12)
        assert whole.hu_std == pytest.approx(floating.hu_std, rel=1e-9)


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32])
def test_hu_summary_matches_numpy_for_histogrammed_and_plain_values(dtype: type) -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 1001):
        values = rng.normal(40.0, 60.0, n).clip(0, 250).round().astype(dtype)
        summary = hu_summary(values)
        plain = values.astype(np.float64)
        assert summary.count == n
        assert summary.mean == pytest.approx(plain.mean(), abs=1e-9)
        assert summary.std == pytest.approx(plain.std(), abs=1e-9)
        for q, got in ((5, summary.p5), (50, summary.median), (95, summary.p95)):
            assert got == pytest.approx(np.percentile(plain, q), abs=1e-9), (n, q)
