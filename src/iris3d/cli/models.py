"""``iris models status`` and ``iris models install``: the TotalSegmentator weights here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iris3d.cli.common import console, friendly_errors
from iris3d.contracts import Quality
from iris3d.errors import IrisError
from iris3d.segment.totalseg.config import read_config, totalseg_home, usage_stats_enabled
from iris3d.segment.totalseg.install import (
    InstallReport,
    default_download_qualities,
    download,
    install_from,
)
from iris3d.segment.totalseg.weights import quality_status, weights_dir


def register(app: typer.Typer) -> None:
    models = typer.Typer(
        help="The TotalSegmentator models: what is installed, and installing them.",
        no_args_is_help=True,
    )
    models.command("status")(status)
    models.command("install")(install)
    app.add_typer(models, name="models")


@friendly_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """List the TotalSegmentator models installed for each quality level."""
    levels = [quality_status(quality) for quality in Quality]
    if as_json:
        report = {
            "weights_dir": str(weights_dir()),
            "send_usage_stats": read_config().get("send_usage_stats"),  # null: not set yet
            "qualities": [level.to_dict() for level in levels],
        }
        typer.echo(json.dumps(report, indent=2))
        return
    out = console()
    out.print(f"[bold]weights[/]  {weights_dir()}")
    config = totalseg_home() / "config.json"
    if not config.is_file():
        stats = "not set yet (Iris turns them off before its first run)"
    else:
        stats = "on" if usage_stats_enabled() else "off"
    out.print(f"[bold]TotalSegmentator usage statistics[/]  {stats} ({config})")
    table = Table("quality", "model", "datasets", "status")
    for level in levels:
        spec = level.spec
        missing = [str(d.task_id) for d in level.datasets if not d.installed]
        state = "installed" if level.installed else f"missing {', '.join(missing)}"
        datasets = " ".join(str(i) for i in spec.task_ids)
        table.add_row(str(spec.quality), f"{spec.resample_mm:g} mm", datasets, state)
    out.print(table)
    if not all(level.installed for level in levels):
        out.print(
            "Install with `iris models install`, or offline `iris models install --from ZIP|DIR`."
        )


@friendly_errors
def install(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A ZIP or folder of TotalSegmentator weights to install offline.",
            exists=True,
        ),
    ] = None,
    quality: Annotated[
        list[Quality] | None,
        typer.Option(
            "--quality", "-q", help="Download only this level's model (repeatable; default all)."
        ),
    ] = None,
) -> None:
    """Install TotalSegmentator models: download them, or import an archive or folder offline."""
    if source is not None:
        if quality:
            raise IrisError("--quality applies to downloads; --from installs what it holds")
        report = install_from(source)
    else:
        report = download(quality or default_download_qualities())
    _print_report(report)


def _print_report(report: InstallReport) -> None:
    out = console()
    for name in report.datasets:
        out.print(f"installed {name}")
    if not report.datasets:
        out.print("nothing to do: those models are already installed")
    for name in report.skipped:
        out.print(f"skipped {name}: no complete model in it")
    ready = ", ".join(str(q) for q in Quality if q in report.qualities) or "none"
    out.print(f"quality levels ready: {ready} (in {report.weights_dir})")
