"""Compare two processed studies of one patient, into a folder that appears only when complete.

Each study is a folder as :func:`iris3d.pipeline.process_study` writes it; only the CT and the
label map (with its ``labels.json`` beside it, whose names win over the NIfTI header's) are
read: volumes and HU are recomputed from the voxels, so ``statistics.json`` is not needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from iris3d import __version__
from iris3d.compare import (
    ComparisonError,
    EmptyStudyError,
    compare_volumes,
    write_comparison_csv,
    write_comparison_glb,
    write_comparison_json,
)
from iris3d.contracts import ArtifactName, ResultsFolder, Stage, artifact_filename
from iris3d.ingest import IngestError, load_study
from iris3d.labelio import LabelFileError, read_label_map
from iris3d.pipeline.atomic import atomic_directory
from iris3d.pipeline.progress import ProgressSink, ignore_progress
from iris3d.volume import CTVolume, LabelMap

# What a comparison reads of each study (``labels.json`` too when there: its names win).
STUDY_FILES = (ArtifactName.CT_NIFTI, ArtifactName.LABELS_NIFTI)
# Stages a comparison reports, in order, with their usual share of its time (CPU, 128^3).
COMPARE_WEIGHTS: tuple[tuple[Stage, float], ...] = (
    (Stage.INGEST, 0.10),
    (Stage.REGISTER, 0.50),
    (Stage.COMPARE, 0.30),
    (Stage.EXPORT, 0.10),
)


class StudyFolderError(ComparisonError):
    """A study folder does not hold a processed study: run `iris process` on the scan first."""


@dataclass(frozen=True)
class ComparisonResult:
    """Where the comparison's files are (``COMPARISON_JSON``, ``COMPARISON_CSV``,
    ``COMPARISON_GLB``) and its gist: ``alignment`` ("good"/"fair"/"poor"), ``message``,
    ``median_dice``, ``structures`` (counts by status), ``largest_changes`` (the first five
    rows: name, status, change_ml, change_percent) and ``timings_s``."""

    output_dir: Path
    files: dict[ArtifactName, Path]
    summary: dict[str, object] = field(default_factory=dict)


def comparison_fraction(stage: Stage, fraction: float) -> float:
    """The whole comparison's completed fraction when ``stage`` is ``fraction`` done."""
    done = 0.0
    for s, weight in COMPARE_WEIGHTS:
        if s is stage:
            return done + weight * min(max(fraction, 0.0), 1.0)
        done += weight
    return done


def compare_studies(
    base: Path,
    follow: Path,
    output_dir: Path,
    *,
    affine: bool = False,
    progress: ProgressSink = ignore_progress,
    overwrite: bool = False,
) -> ComparisonResult:
    """Align the ``follow`` study to the ``base`` study and compare them structure by structure:
    comparison.json, comparison.csv and comparison.glb in ``output_dir``.

    Progress goes through stages INGEST, REGISTER, COMPARE, EXPORT (see
    :func:`comparison_fraction`); ``progress`` may raise to cancel, leaving nothing behind.
    """
    with atomic_directory(output_dir, overwrite=overwrite) as staging:
        started = time.perf_counter()
        progress(Stage.INGEST, 0.0, "reading the base study")
        base_ct, base_labels = read_processed_study(base)
        progress(Stage.INGEST, 0.5, "reading the follow-up study")
        follow_ct, follow_labels = read_processed_study(follow)
        progress(Stage.INGEST, 1.0, "both studies read")
        read_s = time.perf_counter() - started

        comparison = compare_volumes(base_ct, base_labels, follow_ct, follow_labels,
                                     affine=affine, phase=progress)
        comparison.timings_s[Stage.INGEST] = read_s

        started = time.perf_counter()
        folder = ResultsFolder(staging)
        progress(Stage.EXPORT, 0.0, "writing the comparison's surfaces")
        write_comparison_glb(comparison, folder.file(ArtifactName.COMPARISON_GLB))
        progress(Stage.EXPORT, 0.8, "writing the comparison's table")
        comparison.timings_s[Stage.EXPORT] = time.perf_counter() - started
        about = {"iris_version": __version__, "base": _describe(base_ct, base_labels),
                 "follow": _describe(follow_ct, follow_labels)}
        write_comparison_json(comparison, folder.file(ArtifactName.COMPARISON_JSON), about)
        write_comparison_csv(comparison, folder.file(ArtifactName.COMPARISON_CSV))
        progress(Stage.EXPORT, 1.0, comparison.alignment.message)
    timings = {k.value: round(v, 3) for k, v in comparison.timings_s.items()}
    return ComparisonResult(output_dir=output_dir, files=ResultsFolder(output_dir).files(),
                            summary={**comparison.summary(), "timings_s": timings})


def read_processed_study(folder: Path) -> tuple[CTVolume, LabelMap]:
    """The CT and label map of a processed study's folder, checked to lie on one grid."""
    folder = Path(folder)
    study = ResultsFolder(folder)
    ct_file, labels_file = (artifact_filename(name) for name in STUDY_FILES)
    if not folder.is_dir():
        raise StudyFolderError(f"{folder} is not a folder: give the output folder of "
                               f"`iris process` (holding {ct_file} and {labels_file})")
    missing = [artifact_filename(name) for name in study.missing(STUDY_FILES)]
    if missing:
        raise StudyFolderError(f"{folder} has no {' or '.join(missing)}: give the output folder "
                               "of `iris process`")
    try:
        ct = load_study(study.file(ArtifactName.CT_NIFTI))
        labels = read_label_map(study.file(ArtifactName.LABELS_NIFTI))
    except (IngestError, LabelFileError) as e:
        raise StudyFolderError(f"{folder}: {e}") from e
    if not labels.matches(ct):
        raise StudyFolderError(
            f"{folder}: {labels_file} ({labels.shape}) is not on the grid of {ct_file} "
            f"({ct.shape}); both must come from the same `iris process` run")
    if not labels.present_ids():
        raise EmptyStudyError(f"{folder}: {labels_file} has no labelled structure")
    return ct, labels


def _describe(ct: CTVolume, labels: LabelMap) -> dict[str, object]:
    return {"shape": list(ct.shape), "spacing_mm": [round(s, 4) for s in ct.spacing],
            "structures": len(labels.present_ids())}
