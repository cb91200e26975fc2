"""The Khronos glTF validator accepts Iris's GLB, compressed and not.

Needs Node and ``npm ci --prefix tools`` (installs gltf-validator into tools/node_modules).
The validator cannot look inside EXT_meshopt_compression data (it says so as an info): the
uncompressed file checks every accessor, the compressed one the document and its layout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.support.mesh_cases import phantom_meshes
from tests.support.requirements import require

from iris3d.export import AnnotatedMesh, write_glb

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    require(
        executable is not None and (TOOLS / "node_modules" / "gltf-validator").is_dir(),
        "needs node and `npm ci --prefix tools` (the Khronos gltf-validator)",
    )
    assert executable is not None
    return executable


def _validate(node: str, path: Path) -> dict[str, Any]:
    run = subprocess.run([node, str(TOOLS / "validate_gltf.mjs"), str(path)], check=True,
                         capture_output=True, text=True, timeout=120)
    report: dict[str, Any] = json.loads(run.stdout)
    return report


@pytest.mark.parametrize(("compress", "plain"), [(True, False), (False, False), (False, True)],
                         ids=["meshopt", "quantized", "plain"])
def test_validator_reports_no_errors_or_warnings(node: str, compress: bool, plain: bool,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "study.glb"
    write_glb(list(phantom_meshes()), path, compress=compress, plain=plain)
    report = _validate(node, path)
    issues = report["issues"]
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"]
    assert report["info"]["drawCallCount"] == len(phantom_meshes())
    assert report["info"]["totalTriangleCount"] == sum(m.triangle_count for m in phantom_meshes())
    infos = {m["code"] for m in issues["messages"]}
    assert infos <= {"UNSUPPORTED_EXTENSION", "UNUSED_OBJECT"}
    if plain:  # every tool can open it: nothing to decode, every accessor checked
        assert "extensionsUsed" not in report["info"] and "UNSUPPORTED_EXTENSION" not in infos


@pytest.mark.parametrize("compress", [True, False], ids=["meshopt", "plain"])
def test_comparison_glb_with_signed_distances_is_valid(node: str, compress: bool,
                                                       tmp_path: Path) -> None:
    """The comparison's GLB: most structures carry ``_SIGNED_DISTANCE`` (some with
    ``_SCAN_EDGE`` flags), one that appeared does not; extras hold the distance summary (null
    for the new structure)."""
    meshes = phantom_meshes()
    annotated = [
        AnnotatedMesh(m, (m.vertices[:, 0] - m.vertices[:, 0].mean()).astype("float32"),
                      {"status": "both", "distance_mm": {"mean": 0.1, "p5": -1.0, "p95": 1.2,
                                                         "max_abs": 2.0}},
                      m.vertices[:, 2] > m.vertices[:, 2].max() - 5 if i % 2 else None)
        for i, m in enumerate(meshes[1:])
    ] + [AnnotatedMesh(meshes[0], None, {"status": "appeared", "distance_mm": None})]
    path = tmp_path / "comparison.glb"
    write_glb(annotated, path, compress=compress)
    issues = _validate(node, path)["issues"]
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"]
    infos = {m["code"] for m in issues["messages"]}
    assert infos <= {"UNSUPPORTED_EXTENSION", "UNUSED_OBJECT"}
