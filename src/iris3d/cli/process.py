"""``iris process`` and ``iris demo``: the whole pipeline from the command line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from iris3d.cli.common import (
    DataFileOption,
    EngineOption,
    SegmentationOption,
    console,
    detached_policy,
    friendly_errors,
    read_limits,
)
from iris3d.cli.progress import stage_bars
from iris3d.contracts import EngineName, Quality
from iris3d.pipeline import ProcessOptions, StudyResult, process_study
from iris3d.segment import Engine, engine_name, get_engine
from iris3d.settings import get_settings


def register(app: typer.Typer) -> None:
    app.command(name="process")(process)
    app.command(name="demo")(demo)


QualityOption = Annotated[
    Quality,
    typer.Option("--quality", "-q", help="fast: 3 mm model, lighter meshes; normal: 1.5 mm model; "
                 "high: 1.5 mm model, finest meshes; fastest: 6 mm preview."),
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace OUTDIR if it exists.")
]


@friendly_errors
def process(
    source: Annotated[Path, typer.Argument(help="A NIfTI/NRRD/MHA file, DICOM folder or .zip.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the results.")],
    quality: QualityOption = Quality.FAST,
    engine: EngineOption = EngineName.AUTO,
    segmentation: SegmentationOption = None,
    series: Annotated[str | None, typer.Option("--series", help="DICOM series UID.")] = None,
    allow_non_ct: Annotated[bool, typer.Option("--allow-non-ct")] = False,
    overwrite: OverwriteOption = False,
    data_file_anywhere: DataFileOption = False,
) -> None:
    """Segment a CT study, mesh every structure, export GLB/OBJ/STL/NIfTI and statistics."""
    options = ProcessOptions(
        quality=quality,
        engine=engine_name(engine, segmentation=segmentation is not None),
        segmentation=segmentation,
        series_uid=series,
        allow_non_ct=allow_non_ct,
        detached_data=detached_policy(data_file_anywhere),
    )
    with stage_bars() as progress:
        result = process_study(source, output, limits=read_limits(), options=options,
                               progress=progress, engine=_engine(options), overwrite=overwrite)
    _summarise(result)


@friendly_errors
def demo(
    output: Annotated[Path, typer.Argument(help="Folder for the results.")] = Path("iris-demo"),
    engine: EngineOption = EngineName.IMPORT,
    overwrite: OverwriteOption = True,
) -> None:
    """Build a phantom CT (with known anatomy) and run the whole pipeline on it.

    By default the phantom's own label map is imported, so the demo shows 40+ structures with no
    model installed; ``--engine tissue`` or ``auto`` segments the phantom's CT instead.
    """
    from iris3d.phantom import make_phantom  # SimpleITK comes with it: only for the demo
    from iris3d.phantom.files import write_nifti

    phantom = make_phantom(shape=(160, 128, 120), spacing=(2.5, 2.5, 2.5))
    with tempfile.TemporaryDirectory(prefix="iris-demo-") as tmp:
        ct_path = write_nifti(phantom.ct, Path(tmp) / "phantom_ct.nii.gz")
        labels_path = write_nifti(phantom.labels, Path(tmp) / "phantom_labels.nii.gz")
        options = ProcessOptions(
            quality=Quality.FAST,
            engine=engine,
            segmentation=labels_path if engine is EngineName.IMPORT else None,
        )
        console().print(f"Phantom CT {phantom.ct.shape} at 2.5 mm, {len(phantom.truth)} structures")
        with stage_bars() as progress:
            result = process_study(ct_path, output, limits=read_limits(), options=options,
                                   progress=progress, engine=_engine(options),
                                   overwrite=overwrite)
    _summarise(result)


def _engine(options: ProcessOptions) -> Engine:
    """The engine with this command's settings (``IRIS_TOTALSEG_*``, the limits)."""
    settings = get_settings()
    return get_engine(options.engine, limits=read_limits(), segmentation=options.segmentation,
                      precision=settings.totalseg_precision,
                      cpu_runtime=settings.totalseg_cpu_runtime)


def _summarise(result: StudyResult) -> None:
    out = console()
    segmentation = result.manifest.get("segmentation", {})
    assert isinstance(segmentation, dict)
    engine, reason = segmentation.get("engine"), segmentation.get("reason") or ""
    out.print(f"[bold]engine[/]     {engine} {reason}")
    out.print(f"[bold]structures[/] {segmentation.get('structures')}")
    out.print(f"[bold]results[/]    {result.output_dir}")
    for name, path in sorted(result.files.items()):
        out.print(f"  {name:<16} {path.name} ({path.stat().st_size / 1024:.0f} KiB)")
    out.print(f"[bold]timings[/]    {json.dumps(result.manifest.get('timings_s'))}")
