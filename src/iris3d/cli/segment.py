"""``iris segment INPUT... -o OUT``: label a CT with an engine and write the label map.

Writes ``OUT`` (NIfTI, names in its header the way TotalSegmentator's ``--ml`` output carries
them) and the sidecar ``OUT`` with ``.json`` (id, name, group, colour, plus how it was made).
Several inputs share one engine, so a model loaded for the first serves the rest.

As TotalSegmentator does, the label map is written in the input's own voxel order and affine, so
its array lines up index for index with the user's file (a DICOM series: columns, rows, slices
as stored); ``iris process`` keeps Iris's RAS+ order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from iris3d.cli.common import (
    EngineOption,
    SegmentationOption,
    console,
    friendly_errors,
    read_limits,
)
from iris3d.contracts import EngineName, Quality
from iris3d.contracts.formats import NIFTI_SUFFIXES, VOLUME_SUFFIXES, strip_suffix
from iris3d.errors import IrisError
from iris3d.geometry import reorient_to
from iris3d.imageio import write_label_map
from iris3d.ingest import load_study
from iris3d.segment import Engine, get_engine
from iris3d.settings import get_settings
from iris3d.volume import CTVolume, LabelMap


def register(app: typer.Typer) -> None:
    app.command(name="segment")(segment)


def output_paths(inputs: list[Path], output: Path) -> list[Path]:
    """One input: ``output`` is the file. Several: ``output`` is a folder, where each input
    gets ``<name>_seg.nii.gz``."""
    if len(inputs) == 1 and not output.is_dir():
        if not output.name.endswith(NIFTI_SUFFIXES):
            raise IrisError(f"{output}: the label map is written as NIfTI; end it in .nii.gz")
        return [output]
    if output.name.endswith(NIFTI_SUFFIXES):
        raise IrisError(
            f"{len(inputs)} inputs: give -o a folder, where each gets <name>_seg.nii.gz"
        )
    stems = [_stem(p) for p in inputs]
    if len(set(stems)) != len(stems):
        raise IrisError("two inputs have the same name; segment them one at a time")
    return [output / f"{stem}_seg.nii.gz" for stem in stems]


def _stem(path: Path) -> str:
    return strip_suffix(path.resolve().name, (*VOLUME_SUFFIXES, ".zip"))


@friendly_errors
def segment(
    inputs: Annotated[
        list[Path], typer.Argument(help="CT studies: NIfTI/NRRD/MHA, DICOM folders or .zip.")
    ],
    output: Annotated[
        Path,
        typer.Option("-o", "--output",
                     help="The label map (.nii.gz); a folder for several inputs."),
    ],
    *,
    engine: EngineOption = EngineName.AUTO,
    quality: Annotated[Quality, typer.Option("--quality", help="Model resolution.")] = Quality.FAST,
    segmentation: SegmentationOption = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="For --engine import: label names (.json, .csv id,name, "
                     "or a 3D Slicer colour table)."),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="totalsegmentator: cpu, cuda or cuda:N.")
    ] = None,
    series: Annotated[
        str | None, typer.Option("--series", help="DICOM series UID (default: largest axial CT).")
    ] = None,
    allow_non_ct: Annotated[
        bool, typer.Option("--allow-non-ct", help="Load DICOM series that are not CT.")
    ] = False,
) -> None:
    """Segment CT studies and write each label map with its label table."""
    targets = output_paths(inputs, output)
    limits = read_limits()
    settings = get_settings()
    chosen = get_engine(engine, limits=limits, segmentation=segmentation, table=table,
                        device=device, precision=settings.totalseg_precision,
                        cpu_runtime=settings.totalseg_cpu_runtime)
    for study, target in zip(inputs, targets, strict=True):
        volume = load_study(study, series_uid=series, allow_non_ct=allow_non_ct, limits=limits)
        _segment_one(chosen, study, volume, target, quality)


def in_input_order(labels: LabelMap, volume: CTVolume) -> LabelMap:
    """``labels`` (on ``volume``'s RAS+ grid) in the voxel order and affine of the input file."""
    if volume.native_affine is None:
        return labels
    array = reorient_to(labels.array, labels.affine, volume.native_affine)
    return LabelMap(array=array, affine=volume.native_affine, table=labels.table)


def _segment_one(
    engine: Engine, study: Path, volume: CTVolume, target: Path, quality: Quality
) -> None:
    out = console()
    with Progress(
        TextColumn("[bold]{task.fields[study]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=out,
        transient=False,
    ) as bars:
        task = bars.add_task("segmenting", total=100, study=_stem(study))

        def report(fraction: float, message: str) -> None:
            bars.update(task, completed=round(100 * fraction), description=message)

        result = engine.segment(volume, quality, report)
        bars.update(task, completed=100, description="writing")
        nifti, sidecar = write_label_map(in_input_order(result.labels, volume), target,
                                         about=result.describe())
        bars.update(task, description="done")
    present = result.labels.present_ids()
    out.print(f"[bold]{result.engine}[/] {result.engine_version} on {result.device}: "
              f"{len(present)} structures in {result.timings_s.get('total', 0.0):.1f} s")
    if result.reason:
        out.print(f"  {result.reason}")
    if result.engine == EngineName.TISSUE and result.reason:  # auto fell back: say how to do better
        out.print("  install TotalSegmentator's models with `iris models install`")
    out.print(f"  wrote {nifti} and {sidecar.name}")
