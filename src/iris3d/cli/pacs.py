"""``iris pacs``: search a DICOMweb server (PACS) and pull a series into a folder, optionally
processing it at once. Servers are named from IRIS_PACS_SERVERS or given by address."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iris3d.cli.common import EngineOption, console, friendly_errors
from iris3d.cli.process import QualityOption
from iris3d.cli.process import process as process_command
from iris3d.contracts import EngineName, Quality
from iris3d.errors import IrisError
from iris3d.pacs import DicomWebClient, SearchFilter
from iris3d.settings import PacsServerConfig, get_settings

pacs_app = typer.Typer(help="Find and pull studies from a PACS (DICOMweb).", no_args_is_help=True)

ServerOption = Annotated[
    str | None, typer.Option("--server", help="A server's name in IRIS_PACS_SERVERS.")
]
UrlOption = Annotated[
    str | None, typer.Option("--url", help="Or a DICOMweb address, e.g. http://pacs:8042/dicom-web")
]
UserOption = Annotated[str | None, typer.Option("--user", help="Basic authentication user.")]
SecretOption = Annotated[
    str | None,
    typer.Option("--secret", help="The bearer token, or the password with --user (asked for "
                 "when --user is given without it)."),
]
Day = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")]


def register(app: typer.Typer) -> None:
    app.add_typer(pacs_app, name="pacs")


def _server(server: str | None, url: str | None, user: str | None, secret: str | None
            ) -> PacsServerConfig:
    if url:
        if user and secret is None:
            secret = typer.prompt(f"Password for {user}", hide_input=True)
        auth = "basic" if user else "bearer" if secret else "none"
        return PacsServerConfig(name=url, url=url, auth=auth, username=user, secret=secret)
    configured = get_settings().pacs_servers
    if not configured:
        raise IrisError("No PACS configured: give --url, or set IRIS_PACS_SERVERS.")
    if server is None and len(configured) == 1:
        return configured[0]
    for candidate in configured:
        if candidate.name == server:
            return candidate
    names = ", ".join(repr(s.name) for s in configured)
    raise IrisError(f"No PACS named {server!r} in IRIS_PACS_SERVERS; choose one of {names}.")


def _client(server: PacsServerConfig) -> DicomWebClient:
    return DicomWebClient(server, get_settings().pacs_timeout_s)


@pacs_app.command("search")
@friendly_errors
def search(
    server: ServerOption = None,
    url: UrlOption = None,
    user: UserOption = None,
    secret: SecretOption = None,
    date_from: Day = None,
    date_to: Day = None,
    modality: Annotated[str | None, typer.Option(help="e.g. CT")] = None,
    description: Annotated[str | None, typer.Option(help="Part of the series description.")] = None,
    study: Annotated[str | None, typer.Option("--study", help="Series of this study only.")] = None,
    limit: int = 100,
) -> None:
    """List series in the PACS (they may name the patient; Iris keeps nothing of them)."""
    query = SearchFilter(
        date_from=date_from.date().isoformat() if date_from else None,
        date_to=date_to.date().isoformat() if date_to else None,
        modality=modality,
        description=description,
        limit=limit,
    )
    with _client(_server(server, url, user, secret)) as client:
        hits = client.search_series(query, study_uid=study)
    table = Table("date", "modality", "images", "description", "patient", "series UID")
    for hit in hits:
        table.add_row(hit.date or "", hit.modality, str(hit.instance_count or ""),
                      hit.description, hit.patient_name, hit.series_uid)
    console().print(table)
    console().print(f"{len(hits)} series")


@pacs_app.command("pull")
@friendly_errors
def pull(
    series_uid: Annotated[str, typer.Argument(help="The SeriesInstanceUID to bring in.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder: dicom/ (and results/).")],
    study: Annotated[str | None, typer.Option("--study", help="Its StudyInstanceUID.")] = None,
    server: ServerOption = None,
    url: UrlOption = None,
    user: UserOption = None,
    secret: SecretOption = None,
    process: Annotated[bool, typer.Option("--process", help="Then run `iris process` on it "
                                          "into OUTPUT/results.")] = False,
    quality: QualityOption = Quality.FAST,
    engine: EngineOption = EngineName.AUTO,
) -> None:
    """Retrieve one series (WADO-RS) into OUTPUT/dicom, and process it with --process."""
    folder = output / "dicom"
    if folder.exists() and any(folder.iterdir()):
        raise IrisError(f"{folder} is not empty: choose another --output.")
    settings = get_settings()
    with _client(_server(server, url, user, secret)) as client:
        files = client.retrieve_series(
            series_uid,
            folder,
            study_uid=study,
            max_bytes=settings.max_upload_bytes,
            max_instances=settings.max_archive_members,
        )
    size = sum(path.stat().st_size for path in files)
    console().print(f"{len(files)} images ({size / 2**20:,.1f} MiB) in {folder}")
    if process:
        process_command(folder, output / "results", quality=quality, engine=engine,
                        segmentation=None, series=None, allow_non_ct=False, overwrite=False,
                        data_file_anywhere=False)
