"""The shared vocabulary: each name defined once in Python, and the web app's TypeScript types
generated from the same members (through the committed OpenAPI schema)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from enum import StrEnum
from pathlib import Path

import pytest

from iris3d.contracts import (
    ARTIFACT_FILES,
    COMPARISON_INPUTS,
    ArtifactName,
    EngineName,
    JobKind,
    JobStage,
    JobState,
    Quality,
    ResultsFolder,
    Stage,
    keys,
    missing_artifacts,
)
from iris3d.contracts.formats import UPLOAD_SUFFIXES, strip_suffix, upload_suffix

WEB = Path(__file__).resolve().parents[2] / "web"
SCHEMA = WEB / "src" / "api" / "schema.json"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"
ENUMS: list[type[StrEnum]] = [Quality, EngineName, Stage, JobState, JobStage, JobKind,
                              ArtifactName]


def _members(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_the_openapi_schema_names_each_enum_member_for_member(enum: type[StrEnum]) -> None:
    components = json.loads(SCHEMA.read_text())["components"]["schemas"]
    assert enum.__name__ in components, f"{enum.__name__} is not an OpenAPI component"
    assert components[enum.__name__]["enum"] == _members(enum)


@pytest.mark.skipif(shutil.which("node") is None or not GENERATOR.exists(),
                    reason="needs Node and `npm ci --prefix web` (scripts/setup.sh does both)")
def test_the_generated_typescript_has_the_python_enums(tmp_path: Path) -> None:
    """What the web app compiles against: ``npm run gen``'s output, made afresh here."""
    out = tmp_path / "schema.d.ts"
    subprocess.run([str(GENERATOR), str(SCHEMA), "-o", str(out)], check=True,
                   capture_output=True, timeout=120)
    generated = out.read_text()
    for enum in ENUMS:
        found = re.search(rf"^\s*{enum.__name__}: ((?:\"[a-z_]+\"(?: \| )?)+);$", generated,
                          re.MULTILINE)
        assert found is not None, f"no TypeScript type {enum.__name__} in the generated client"
        assert re.findall(r'"([a-z_]+)"', found.group(1)) == _members(enum), enum.__name__


def test_job_stages_are_the_states_and_the_stages() -> None:
    """A job's stage is where it is: waiting, one of the stages, or finished."""
    finished = [s for s in _members(JobState) if s not in (JobState.QUEUED, JobState.RUNNING)]
    assert _members(JobStage) == [JobState.QUEUED, *_members(Stage), *finished]


def test_every_artifact_has_one_file_name_and_a_media_type() -> None:
    assert set(ARTIFACT_FILES) == set(ArtifactName)
    names = [f.filename for f in ARTIFACT_FILES.values()]
    assert len(set(names)) == len(names)
    assert all("/" in f.media_type for f in ARTIFACT_FILES.values())


def test_engines_that_may_run_the_model_go_to_gpu_workers() -> None:
    assert {e for e in EngineName if e.needs_gpu} == {EngineName.AUTO, EngineName.TOTALSEGMENTATOR}


def test_the_key_layout_keeps_each_job_and_attempt_apart() -> None:
    job = keys.study_job_prefix("s1", "j1")
    assert job.startswith(keys.study_prefix("s1") + "/")
    assert keys.source_key("s1", "study.zip").startswith(keys.study_prefix("s1") + "/")
    assert keys.segmentation_key("s1", ".nii.gz").startswith(keys.segmentation_prefix("s1") + "/")
    first, second = keys.attempt_prefix(job, 1), keys.attempt_prefix(job, 2)
    assert first != second and not second.startswith(first + "/")
    assert keys.result_key(first, "anatomy.glb").startswith(first + "/")
    assert not keys.comparison_prefix("j1").startswith(keys.study_prefix(""))


def test_a_results_folder_lists_and_checks_its_files(tmp_path: Path) -> None:
    folder = ResultsFolder(tmp_path)
    assert folder.missing(COMPARISON_INPUTS) == list(COMPARISON_INPUTS)
    folder.file(ArtifactName.CT_NIFTI).write_bytes(b"ct")
    folder.file(ArtifactName.GLB).write_bytes(b"glb")
    (tmp_path / "notes.txt").write_text("not an artifact")
    assert folder.missing(COMPARISON_INPUTS) == [ArtifactName.LABELS_NIFTI,
                                                 ArtifactName.LABELS_JSON]
    manifest = json.loads(folder.write_manifest({"quality": "fast"}).read_text())
    assert manifest == {"quality": "fast", "files": {
        "ct_nifti": "ct.nii.gz", "glb": "anatomy.glb", "manifest": "manifest.json"}}
    assert set(folder.files()) == {ArtifactName.CT_NIFTI, ArtifactName.GLB, ArtifactName.MANIFEST}


def test_missing_artifacts_keeps_the_required_order() -> None:
    assert missing_artifacts(["labels_json"], COMPARISON_INPUTS) == [
        ArtifactName.CT_NIFTI, ArtifactName.LABELS_NIFTI]
    assert missing_artifacts([n.value for n in ArtifactName], COMPARISON_INPUTS) == []


def test_file_suffixes() -> None:
    assert upload_suffix("Scan.NII.GZ") == ".nii.gz" and upload_suffix("scan.nii") == ".nii"
    assert upload_suffix("scan.mhd") == ""  # a detached header comes zipped with its data
    assert all(upload_suffix(f"x{s}") == s for s in UPLOAD_SUFFIXES)
    assert strip_suffix("Liver.NII.GZ", (".nii.gz", ".nii")) == "Liver"
    assert strip_suffix("liver.nrrd", (".nii.gz", ".nii")) == "liver.nrrd"
