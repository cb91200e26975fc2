"""The mesh, export and stats stages: everything a user downloads or the viewer loads."""

from __future__ import annotations

import time
from concurrent.futures import Executor, Future
from pathlib import Path

from iris3d.contracts.names import Stage
from iris3d.contracts.progress import StageProgress, for_stage, within
from iris3d.export import write_glb, write_mesh_bundle, write_thumbnail
from iris3d.imageio import write_label_map
from iris3d.mesh import build_meshes, mesh_detail, printable_meshes
from iris3d.mesh.grid import meshing_grid
from iris3d.segment.base import Quality
from iris3d.stats import compute_statistics, write_statistics_csv, write_statistics_json
from iris3d.volume import CTVolume, LabelMap

FILE_NAMES: dict[str, str] = {
    "glb": "anatomy.glb",
    "glb_plain": "anatomy_plain.glb",
    "meshes_zip": "meshes.zip",
    "statistics_json": "statistics.json",
    "statistics_csv": "statistics.csv",
    "thumbnail": "thumbnail.png",
    "ct_nifti": "ct.nii.gz",
}


def write_outputs(
    volume: CTVolume,
    labels: LabelMap,
    quality: Quality,
    folder: Path,
    progress: StageProgress,
    timings: dict[str, float],
    *,
    background: Executor,
    ct_written: Future[Path],
) -> dict[str, Path]:
    """Mesh every structure, write GLB, STL/OBJ bundle, statistics and thumbnail into ``folder``.

    The files that need only the volumes (``ct_written``, started by the caller, then the label
    map and the thumbnail) are written on ``background`` while the meshes are built: gzip and
    most of numpy release the GIL, so they use the core that meshing leaves idle.
    """
    files = {name: folder / file_name for name, file_name in FILE_NAMES.items()}
    volume_files = background.submit(_write_volume_files, volume, labels, folder,
                                     files["thumbnail"])
    # The 6 mm preview model still gets the fast level's meshes: coarser ones look broken.
    detail = mesh_detail(Quality.FAST.value if quality is Quality.FASTEST else quality.value)

    started = time.perf_counter()
    progress(Stage.MESH, 0.0, "building surfaces")
    grid = meshing_grid(labels.array)  # once for both passes: it copies the labels' box
    # The CT places each surface at sub-voxel precision (its partial-volume intensities).
    meshing = for_stage(progress, Stage.MESH)
    meshes = build_meshes(labels, detail, progress=within(meshing, 0.0, 0.7, "surfaces"),
                          grid=grid, ct=volume)
    printable = printable_meshes(labels, meshes, detail, grid=grid, ct=volume,
                                 progress=within(meshing, 0.7, 1.0, "closing for print"))
    del grid
    timings["mesh"] = time.perf_counter() - started

    started = time.perf_counter()
    progress(Stage.EXPORT, 0.0, "writing GLB")
    write_glb(meshes, files["glb"])
    write_glb(meshes, files["glb_plain"], plain=True)  # for tools without a meshopt decoder
    progress(Stage.EXPORT, 0.5, "writing STL/OBJ bundle")
    write_mesh_bundle(printable, files["meshes_zip"])
    progress(Stage.EXPORT, 0.9, "writing the CT, the label map and the thumbnail")
    ct_written.result()
    files.update(volume_files.result())
    timings["export"] = time.perf_counter() - started

    started = time.perf_counter()
    progress(Stage.STATS, 0.0, "measuring structures")
    statistics = compute_statistics(volume, labels, printable)
    write_statistics_json(statistics, files["statistics_json"])
    write_statistics_csv(statistics, files["statistics_csv"])
    progress(Stage.STATS, 1.0, f"{len(statistics)} structures measured")
    timings["stats"] = time.perf_counter() - started
    return files


def _write_volume_files(
    volume: CTVolume, labels: LabelMap, folder: Path, thumbnail: Path
) -> dict[str, Path]:
    nifti, sidecar = write_label_map(labels, folder / "labels.nii.gz")
    write_thumbnail(volume, labels, thumbnail)
    return {"labels_nifti": nifti, "labels_json": sidecar}

