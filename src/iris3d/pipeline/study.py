"""Process one study: every stage in order, into a folder that appears only when complete."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from iris3d import __version__
from iris3d.contracts import ArtifactName, EngineName, Quality, ResultsFolder, Stage
from iris3d.contracts.progress import StageProgress, for_stage, no_stage_progress
from iris3d.export.dicom_seg import Algorithm
from iris3d.imageio import write_ct_nifti
from iris3d.ingest import Detached, ReadLimits, load_study
from iris3d.pipeline.atomic import atomic_directory
from iris3d.pipeline.outputs import write_outputs
from iris3d.segment import get_engine
from iris3d.segment.base import Engine, SegmentationResult
from iris3d.volume import CTVolume


@dataclass(frozen=True)
class ProcessOptions:
    quality: Quality = Quality.FAST
    engine: EngineName = EngineName.AUTO  # with a segmentation: import (see segment.engine_name)
    segmentation: Path | None = None  # the user's own label map or masks, for engine import
    series_uid: str | None = None
    allow_non_ct: bool = False
    detached_data: Detached = Detached.REFUSE  # where an NRRD/MHA header may find its voxels


@dataclass(frozen=True)
class StudyResult:
    output_dir: Path
    files: dict[ArtifactName, Path]
    manifest: dict[str, object] = field(default_factory=dict)


def process_study(
    source: Path,
    output_dir: Path,
    *,
    limits: ReadLimits,
    options: ProcessOptions | None = None,
    progress: StageProgress = no_stage_progress,
    engine: Engine | None = None,
    overwrite: bool = False,
    read: CTVolume | None = None,
) -> StudyResult:
    """Run ingest -> segment -> mesh -> export -> stats on ``source``; results in ``output_dir``.

    ``limits`` (from the caller's settings) bound the study and an imported segmentation. Pass
    ``engine`` to reuse one (a warm model) across studies, and ``read`` where ``source`` has
    already been read (a worker's check in a limited child). ``progress`` may raise to cancel;
    nothing is left at ``output_dir`` unless every stage succeeded.
    """
    options = options or ProcessOptions()
    timings: dict[Stage, float] = {}
    with atomic_directory(output_dir, overwrite=overwrite) as staging, _background() as writer:
        folder = ResultsFolder(staging)
        started = time.perf_counter()
        progress(Stage.INGEST, 0.0, "reading the study")
        volume = read or load_study(source, series_uid=options.series_uid,
                                    allow_non_ct=options.allow_non_ct,
                                    detached=options.detached_data, limits=limits)
        progress(Stage.INGEST, 1.0, f"loaded {'x'.join(map(str, volume.shape))} voxels")
        # The CT's file needs nothing but the CT: compressed while the study is segmented.
        ct_written = writer.submit(write_ct_nifti, volume, folder.file(ArtifactName.CT_NIFTI))
        timings[Stage.INGEST] = time.perf_counter() - started

        segmentation = _segment(volume, options, engine or _engine(options, limits), progress,
                                timings)
        write_outputs(volume, segmentation.labels, options.quality, folder, progress,
                      timings, background=writer, ct_written=ct_written,
                      algorithm=_algorithm(segmentation),
                      compartments=segmentation.compartments)
        # The stages' timings cover the run; only this JSON (milliseconds) comes after them.
        manifest = _manifest(volume, segmentation, options, timings)
        folder.write_manifest(manifest)
    return StudyResult(output_dir=output_dir, files=ResultsFolder(output_dir).files(),
                       manifest=manifest)


@contextmanager
def _background() -> Iterator[ThreadPoolExecutor]:
    """One thread for the files written beside the main work; on the way out (also on errors and
    cancellation) what has not started is dropped and what has is waited for, so nothing writes
    into the staging folder once it is renamed or removed."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="iris-files")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _segment(
    volume: CTVolume,
    options: ProcessOptions,
    engine: Engine,
    progress: StageProgress,
    timings: dict[Stage, float],
) -> SegmentationResult:
    started = time.perf_counter()
    progress(Stage.SEGMENT, 0.0, f"segmenting with {engine.name}")
    result = engine.segment(volume, options.quality, for_stage(progress, Stage.SEGMENT))
    progress(Stage.SEGMENT, 1.0, f"{len(result.labels.present_ids())} structures found")
    timings[Stage.SEGMENT] = time.perf_counter() - started
    return result


def _algorithm(segmentation: SegmentationResult) -> Algorithm | None:
    """Who made the segments, as a DICOM-SEG says it; nobody we know for an imported one."""
    if segmentation.engine == EngineName.IMPORT:
        return None
    return Algorithm(segmentation.engine, segmentation.engine_version)


def _engine(options: ProcessOptions, limits: ReadLimits) -> Engine:
    return get_engine(options.engine, limits=limits, segmentation=options.segmentation)


def _manifest(
    volume: CTVolume,
    segmentation: SegmentationResult,
    options: ProcessOptions,
    timings: dict[Stage, float],
) -> dict[str, object]:
    """How the study was processed (:meth:`ResultsFolder.write_manifest` adds its files)."""
    present = set(segmentation.labels.present_ids())
    return {
        "iris_version": __version__,
        "quality": options.quality.value,
        "study": {
            **volume.metadata.to_dict(),
            "shape": list(volume.shape),
            "spacing_mm": list(volume.spacing),
            "coordinates": "RAS+ millimetres (GLB: glTF Y-up metres; OBJ/STL: LPS millimetres)",
        },
        "segmentation": segmentation.describe(),
        "structures": [s.to_dict() for s in segmentation.labels.table.values()
                       if s.label in present],
        "timings_s": {k.value: round(v, 3) for k, v in timings.items()},
    }
