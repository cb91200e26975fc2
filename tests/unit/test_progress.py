"""One progress protocol: pieces of work report their own fraction, callers place them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from iris3d.contracts.names import Stage
from iris3d.contracts.progress import StagePlan, counted, for_stage, within
from iris3d.mesh import build_meshes
from iris3d.phantom import Phantom
from iris3d.pipeline import COMPARISON_STAGES, STUDY_STAGES

SRC = Path(__file__).resolve().parents[2] / "src" / "iris3d"


def test_within_maps_a_part_onto_its_range_and_names_it() -> None:
    seen: list[tuple[float, str]] = []
    part = within(lambda f, m: seen.append((f, m)), 0.7, 1.0, "closing for print")
    part(0.0, "0/4")
    part(0.5, "2/4")
    part(2.0, "past the end")  # clamped: a part never reports beyond its range
    assert seen == [(0.7, "closing for print 0/4"), (pytest.approx(0.85), "closing for print 2/4"),
                    (1.0, "closing for print past the end")]


def test_parts_nest_and_land_on_their_stage() -> None:
    seen: list[tuple[Stage, float, str]] = []
    mesh = for_stage(lambda s, f, m: seen.append((s, f, m)), Stage.MESH)
    inner = within(within(mesh, 0.0, 0.5), 0.5, 1.0, "surfaces")
    inner(0.5, "1/2")
    assert seen == [(Stage.MESH, pytest.approx(0.375), "surfaces 1/2")]


def test_counted_reports_items_done() -> None:
    seen: list[tuple[float, str]] = []
    counted(lambda f, m: seen.append((f, m)), 3, 4)
    counted(lambda f, m: seen.append((f, m)), 0, 0)
    assert seen == [(0.75, "3/4"), (1.0, "0/0")]


def test_the_plans_add_up_and_only_move_forward() -> None:
    for plan in (STUDY_STAGES, COMPARISON_STAGES):
        steps = [plan.overall(s, f) for s in plan.stages for f in (0.0, 0.5, 1.0)]
        assert steps == sorted(steps) and steps[0] == 0.0 and steps[-1] == pytest.approx(1.0)
    assert STUDY_STAGES.stages == (Stage.INGEST, Stage.SEGMENT, Stage.MESH, Stage.EXPORT,
                                   Stage.STATS)
    assert STUDY_STAGES.overall(Stage.MESH, 0.0) == pytest.approx(0.65)
    assert COMPARISON_STAGES.overall(Stage.REGISTER, 0.5) == pytest.approx(0.35)
    assert STUDY_STAGES.overall(Stage.REGISTER, 0.0) == pytest.approx(1.0)  # not a study's stage
    with pytest.raises(ValueError, match="add up to 1"):
        StagePlan(((Stage.INGEST, 0.5),))


def test_meshing_reports_through_the_protocol(small_phantom: Phantom) -> None:
    seen: list[tuple[float, str]] = []
    meshes = build_meshes(small_phantom.labels, progress=lambda f, m: seen.append((f, m)))
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert seen[-1] == (1.0, f"{len(meshes)}/{len(meshes)}")


def test_progress_types_are_defined_once() -> None:
    """No module defines its own progress callback type next to the protocol."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.parts[-2:] == ("contracts", "progress.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and "Progress" in node.name:
                offenders.append(f"{path.name}: class {node.name}")
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.endswith(("Progress", "Callback", "Phase"))
                for t in node.targets
            ):
                offenders.append(f"{path.name}: {ast.unparse(node)[:60]}")
    assert offenders == []
