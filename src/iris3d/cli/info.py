"""``iris info PATH``: what Iris sees in a study, before doing anything with it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from iris3d.cli.common import (
    DataFileOption,
    console,
    detached_policy,
    friendly_errors,
    read_limits,
)
from iris3d.ingest import detect_format, list_series, load_study
from iris3d.volume import CTVolume, SeriesSummary


def register(app: typer.Typer) -> None:
    app.command(name="info")(info)


@friendly_errors
def info(
    path: Annotated[Path, typer.Argument(help="A NIfTI/NRRD/MHA file, a DICOM folder or a .zip.")],
    series: Annotated[
        str | None, typer.Option("--series", help="DICOM SeriesInstanceUID to load.")
    ] = None,
    allow_non_ct: Annotated[
        bool, typer.Option("--allow-non-ct", help="Load DICOM series that are not CT.")
    ] = False,
    data_file_anywhere: DataFileOption = False,
) -> None:
    """Show a study's format, series, geometry, HU range and memory needs."""
    out = console()
    out.print(f"[bold]format[/]        {detect_format(path).value}")
    limits = read_limits()
    series_list = list_series(path, limits=limits)
    if series_list:
        _print_series(series_list, out)
    volume = load_study(path, series_uid=series, allow_non_ct=allow_non_ct,
                        detached=detached_policy(data_file_anywhere), limits=limits)
    _print_volume(volume, out)


def _print_series(series_list: list[SeriesSummary], out: Console) -> None:
    table = Table(title="DICOM series", title_justify="left")
    table.add_column("UID", overflow="fold")
    for column in ("description", "modality", "slices", "orientation", "size"):
        table.add_column(column)
    for s in series_list:
        table.add_row(s.uid, s.description, s.modality, str(s.slice_count), s.orientation,
                      f"{s.columns}x{s.rows}")
    out.print(table)


def _print_volume(volume: CTVolume, out: Console) -> None:
    meta = volume.metadata
    sx, sy, sz = volume.spacing
    lo, hi = int(np.min(volume.array)), int(np.max(volume.array))
    working_bytes = volume.array.size * (volume.array.itemsize + 2 + 4)
    rows = [
        ("chosen series", meta.series_uid or "-"),
        ("description", meta.series_description or "-"),
        ("modality", meta.modality or "unknown"),
        ("manufacturer", meta.manufacturer or "-"),
        ("kVp", f"{meta.kvp:g}" if meta.kvp else "-"),
        ("shape", "x".join(str(n) for n in volume.shape)),
        ("spacing", f"{sx:.3f} x {sy:.3f} x {sz:.3f} mm"),
        ("orientation", f"{volume.orientation} (voxel axes, after reorienting to RAS+)"),
        ("HU range", f"{lo} .. {hi}"),
        ("memory", f"{volume.array.nbytes / 2**20:.0f} MiB volume, "
                   f"~{working_bytes / 2**20:.0f} MiB to process"),
    ]
    for key, value in rows:
        out.print(f"[bold]{key:<13}[/] {value}")
    for warning in meta.warnings:
        out.print(f"[yellow]note:[/] {warning}")
