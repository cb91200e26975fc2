"""``iris compare``: two processed studies of one patient, organ by organ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Column, Table

from iris3d.cli.common import console, friendly_errors
from iris3d.cli.progress import stage_bars
from iris3d.contracts import ArtifactName

if TYPE_CHECKING:
    from iris3d.pipeline import ComparisonResult

TOP_CHANGES = 10


def register(app: typer.Typer) -> None:
    app.command(name="compare")(compare)


@friendly_errors
def compare(
    base: Annotated[Path, typer.Argument(
        metavar="BASE_DIR", help="The earlier study: an `iris process` output folder.")],
    follow: Annotated[Path, typer.Argument(
        metavar="FOLLOW_DIR", help="The later study of the same patient: an `iris process` "
        "output folder.")],
    output: Annotated[Path, typer.Argument(
        metavar="OUT_DIR", help="Folder for comparison.json, comparison.csv, comparison.glb.")],
    affine: Annotated[bool, typer.Option("--affine", help="Allow scaling and shear after the "
                                         "rigid alignment.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite",
                                            help="Replace OUT_DIR if it exists.")] = False,
) -> None:
    """Align FOLLOW_DIR's study to BASE_DIR's and compare every structure: volume, mean HU
    and surface distance (+ where the follow-up's surface lies outside the base's)."""
    from iris3d.pipeline import compare_studies  # loads SimpleITK: only when comparing

    with stage_bars() as progress:
        result = compare_studies(base, follow, output, affine=affine, progress=progress,
                                 overwrite=overwrite)
    _summarise(result)


def _summarise(result: ComparisonResult) -> None:
    out = console()
    summary = result.summary
    verdict = str(summary.get("alignment"))
    colour = {"good": "green", "fair": "yellow"}.get(verdict, "red")
    out.print(f"[bold {colour}]{summary.get('message')}[/]")
    counts = summary.get("structures", {})
    assert isinstance(counts, dict)
    out.print(f"[bold]structures[/] {counts.get('both', 0)} in both, {counts.get('appeared', 0)} "
              f"appeared, {counts.get('disappeared', 0)} disappeared")
    document = json.loads(result.files[ArtifactName.COMPARISON_JSON].read_text(encoding="utf-8"))
    table = Table(Column("structure", overflow="fold", min_width=12), "status",
                  *(Column(h, justify="right", no_wrap=True)
                    for h in ("base", "later", "change", "%", "distance")),
                  title=f"Largest changes (of {len(document['structures'])} structures)",
                  caption="volumes in mL; distance: mean mm, + where the later surface lies "
                  "outside", box=box.SIMPLE, padding=(0, 1))
    for row in document["structures"][:TOP_CHANGES]:
        distance = row["distance_mm"]
        table.add_row(
            row["name"], row["status"], f"{row['volume_base_ml']:.1f}",
            f"{row['volume_follow_ml']:.1f}", f"{row['change_ml']:+.1f}",
            "" if row["change_percent"] is None else f"{row['change_percent']:+.1f}",
            "" if distance is None else f"{distance['mean']:+.1f}",
        )
    out.print(table)
    out.print(f"[bold]results[/]    {result.output_dir}")
    for name, path in sorted(result.files.items()):
        out.print(f"  {name:<16} {path.name} ({path.stat().st_size / 1024:.0f} KiB)")
