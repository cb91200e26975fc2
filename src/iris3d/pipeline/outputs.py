"""The mesh, export and stats stages: everything a user downloads or the viewer loads."""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from pathlib import Path

from iris3d.contracts import ArtifactName, Quality, ResultsFolder, Stage
from iris3d.contracts.progress import StageProgress, for_stage, within
from iris3d.export import write_glb, write_mesh_bundle, write_thumbnail
from iris3d.export.dicom_seg import Algorithm, write_dicom_seg
from iris3d.imageio import write_label_map
from iris3d.mesh import build_meshes, mesh_detail, printable_meshes
from iris3d.mesh.compartment import compartment_meshes
from iris3d.mesh.grid import meshing_grid
from iris3d.stats import compute_statistics, write_statistics_csv, write_statistics_json
from iris3d.stats.dicom_sr import write_dicom_sr
from iris3d.volume import CTVolume, LabelMap


def write_outputs(
    volume: CTVolume,
    labels: LabelMap,
    quality: Quality,
    folder: ResultsFolder,
    progress: StageProgress,
    timings: dict[Stage, float],
    *,
    background: Executor,
    ct_written: Future[Path],
    algorithm: Algorithm | None = None,
    compartments: Mapping[int, float] | None = None,
) -> None:
    """Mesh every structure, write GLB, STL/OBJ bundle, statistics and thumbnail into ``folder``;
    for a study read from DICOM also a DICOM-SEG and its measurement report (SR), whose
    segments say they were made by ``algorithm`` (None: an imported segmentation).
    ``compartments``: labels meshed as tissue compartments, on cells of that many mm (see
    :mod:`iris3d.mesh.compartment`); the rest by Surface Nets at the labels' resolution.

    The files that need only the volumes (``ct_written``, started by the caller, then the label
    map and the thumbnail) are written on ``background`` while the meshes are built: gzip and
    most of numpy release the GIL, so they use the core that meshing leaves idle.
    """
    volume_files = background.submit(_write_volume_files, volume, labels, folder)
    detail = mesh_detail(quality)

    started = time.perf_counter()
    progress(Stage.MESH, 0.0, "building surfaces")
    meshing = for_stage(progress, Stage.MESH)
    coarse = compartment_meshes(labels, compartments or {}, detail,
                                progress=within(meshing, 0.0, 0.3, "tissue compartments"))
    grid = meshing_grid(labels.array)  # once for both passes: it copies the labels' box
    # The CT places each surface at sub-voxel precision (its partial-volume intensities).
    meshes = build_meshes(labels, detail, progress=within(meshing, 0.3, 0.7, "surfaces"),
                          grid=grid, ct=volume, skip=coarse)
    meshes = sorted([*meshes, *coarse.values()], key=lambda m: m.structure.label)
    printable = printable_meshes(labels, meshes, detail, grid=grid, ct=volume,
                                 progress=within(meshing, 0.7, 1.0, "closing for print"))
    del grid
    timings[Stage.MESH] = time.perf_counter() - started

    started = time.perf_counter()
    progress(Stage.EXPORT, 0.0, "writing GLB")
    write_glb(meshes, folder.file(ArtifactName.GLB))
    # for tools without a meshopt decoder
    write_glb(meshes, folder.file(ArtifactName.GLB_PLAIN), plain=True)
    del meshes  # the DICOM-SEG below may need the memory; stats use the closed meshes
    progress(Stage.EXPORT, 0.5, "writing STL/OBJ bundle")
    write_mesh_bundle(printable, folder.file(ArtifactName.MESHES_ZIP))
    progress(Stage.EXPORT, 0.9, "writing the CT, the label map and the thumbnail")
    ct_written.result()
    volume_files.result()
    seg = None
    if volume.dicom is not None:
        progress(Stage.EXPORT, 0.95, "writing the DICOM-SEG")
        seg = write_dicom_seg(volume, labels, folder.file(ArtifactName.DICOM_SEG), algorithm)
    timings[Stage.EXPORT] = time.perf_counter() - started

    started = time.perf_counter()
    progress(Stage.STATS, 0.0, "measuring structures")
    statistics = compute_statistics(volume, labels, printable)
    write_statistics_json(statistics, folder.file(ArtifactName.STATISTICS_JSON))
    write_statistics_csv(statistics, folder.file(ArtifactName.STATISTICS_CSV))
    if seg is not None:
        write_dicom_sr(volume, statistics, seg, folder.file(ArtifactName.DICOM_SR))
    progress(Stage.STATS, 1.0, f"{len(statistics)} structures measured")
    timings[Stage.STATS] = time.perf_counter() - started


def _write_volume_files(volume: CTVolume, labels: LabelMap, folder: ResultsFolder) -> None:
    """The label map (its table beside it, as ``labels_json``) and the thumbnail."""
    write_label_map(labels, folder.file(ArtifactName.LABELS_NIFTI))
    write_thumbnail(volume, labels, folder.file(ArtifactName.THUMBNAIL))

