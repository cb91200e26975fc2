"""``iris remote``: use an Iris server from the command line (bearer token, no browser)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)

from iris3d.cli.common import EngineOption, console, friendly_errors
from iris3d.cli.remote_client import Login, RemoteClient, RemoteError, as_single_file
from iris3d.contracts import ArtifactName, EngineName, JobStage, JobState, Quality
from iris3d.contracts.formats import NIFTI_SUFFIXES
from iris3d.scrub import scrub
from iris3d.segment import engine_name
from iris3d.settings import get_settings

remote_app = typer.Typer(help="Use an Iris server: upload, follow, download.", no_args_is_help=True)

ServerOption = Annotated[str | None, typer.Option("--server", help="Default: the saved login.")]


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")


def _login_file() -> Path:
    return get_settings().data_dir / "remote.json"


def _saved_login(server: str | None) -> Login:
    path = _login_file()
    if not path.exists():
        raise RemoteError("not signed in: run `iris remote login URL --email ...` first")
    saved = json.loads(path.read_text())
    return Login(url=server or saved["url"], token=saved["token"])


def _client(server: str | None) -> RemoteClient:
    login = _saved_login(server)
    return RemoteClient(login.url, login.token)


@remote_app.command("login")
@friendly_errors
def login(
    url: Annotated[str, typer.Argument(help="The server, e.g. http://127.0.0.1:8000")],
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
) -> None:
    """Sign in and keep the token (readable by you only) for the other commands."""
    client = RemoteClient(url)
    try:
        token = client.sign_in(email, password)
    finally:
        client.close()
    path = _login_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "token": token}, f)
    console().print(f"signed in to {url} as {email}")


def _bytes_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console(),
    )


@remote_app.command("upload")
@friendly_errors
def upload(
    path: Annotated[Path, typer.Argument(exists=True, help="NIfTI/NRRD/MHA, DICOM zip or folder.")],
    *,
    name: Annotated[str | None, typer.Option(help="The study's name.")] = None,
    quality: Annotated[Quality, typer.Option(help="The model's resolution.")] = Quality.FAST,
    engine: EngineOption = EngineName.AUTO,
    segmentation: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Your label map (NIfTI): engine import."),
    ] = None,
    series: Annotated[str | None, typer.Option(help="DICOM SeriesInstanceUID.")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the job until it ends.")] = True,
    server: ServerOption = None,
) -> None:
    """Upload a study and start a job for it (with --segmentation: meshes of your own labels)."""
    engine = _engine_for(engine, segmentation)
    client = _client(server)
    try:
        with as_single_file(path) as single, _bytes_progress() as bar:
            task = bar.add_task("upload", total=single.stat().st_size)
            upload_id = client.upload_file(single, lambda done: bar.update(task, completed=done))
        study = client.post(
            f"/api/uploads/{upload_id}/complete",
            {"name": name or path.name.split(".")[0], "series_uid": series},
        )
        if segmentation is not None:
            _attach_segmentation(client, study["id"], segmentation)
        job = client.post(
            "/api/jobs",
            {"study_id": study["id"], "quality": quality, "engine": engine, "series_uid": series},
        )
        console().print(f"study {study['id']}  job {job['id']}")
        if wait:
            _follow(client, job["id"])
    finally:
        client.close()


def _engine_for(engine: EngineName, segmentation: Path | None) -> EngineName:
    """The engine a job runs (see :func:`engine_name`); refused before any upload."""
    if segmentation is not None and not segmentation.name.lower().endswith(NIFTI_SUFFIXES):
        raise RemoteError(f"{segmentation.name}: send a NIfTI label map (.nii or .nii.gz)")
    return engine_name(engine, segmentation=segmentation is not None)


def _attach_segmentation(client: RemoteClient, study_id: str, segmentation: Path) -> None:
    """Attach the label map; a refused one takes its just-uploaded study with it."""
    try:
        client.put_segmentation(study_id, segmentation)
    except RemoteError as e:
        client.delete(f"/api/studies/{study_id}")
        raise RemoteError(f"{segmentation.name} was refused ({e}); nothing was kept") from None


@remote_app.command("compare")
@friendly_errors
def compare(
    base_study: Annotated[str, typer.Argument(help="The earlier study's id.")],
    follow_study: Annotated[str, typer.Argument(help="The later study's id.")],
    *,
    affine: Annotated[bool, typer.Option(help="Affine rather than rigid alignment.")] = False,
    wait: Annotated[bool, typer.Option(help="Follow the comparison until it ends.")] = True,
    server: ServerOption = None,
) -> None:
    """Compare two of your processed studies; `download` its id for the table and surfaces."""
    client = _client(server)
    try:
        body = {"base_study_id": base_study, "follow_study_id": follow_study, "affine": affine}
        comparison = client.post("/api/comparisons", body)
        console().print(f"comparison {comparison['id']}")
        if wait:
            _follow(client, comparison["id"])
    finally:
        client.close()


def _follow(client: RemoteClient, job_id: str) -> None:
    with Progress(console=console()) as bar:
        task = bar.add_task(JobStage.QUEUED.value, total=100)
        final: dict[str, Any] = {}
        for status in client.events(job_id):
            bar.update(
                task,
                completed=status["percent"],
                # Progress descriptions are markup: the server's text is escaped.
                description=escape(scrub(f"{status['stage']}: {status['message']}", limit=60)),
            )
            final = status
    if final.get("state") != JobState.DONE:
        raise RemoteError(f"job {job_id} {final.get('state')}: {final.get('error') or ''}")
    console().print(f"done in {final.get('duration_s') or 0:.1f} s with {final.get('engine_used')}")


@remote_app.command("status")
@friendly_errors
def status(
    job_id: Annotated[str | None, typer.Argument(help="One job; default: list your jobs.")] = None,
    server: ServerOption = None,
) -> None:
    """Show a job's status, or all your jobs."""
    client = _client(server)
    try:
        jobs = [client.get(f"/api/jobs/{job_id}")] if job_id else client.get("/api/jobs")["items"]
    finally:
        client.close()
    out = console()
    for job in jobs:
        queue = job["queue_position"]
        eta = job["eta_seconds"]
        out.print(
            f"{job['id']}  {job['stage']:<9} {job['percent']:5.1f}%  "
            f"queue {'-' if queue is None else queue}  "
            f"eta {'-' if eta is None else f'{eta:.0f} s'}  "
            f"{job['engine_used'] or job['engine'] or job['kind']}  {job['error'] or ''}".rstrip(),
            soft_wrap=True,
        )


@remote_app.command("download")
@friendly_errors
def download(
    job_id: Annotated[str, typer.Argument(help="A finished job.")],
    out: Annotated[Path, typer.Option(help="Folder for the files.")] = Path(),
    artifact: Annotated[
        list[ArtifactName] | None, typer.Option(help="Only these; repeatable.")
    ] = None,
    server: ServerOption = None,
) -> None:
    """Download a finished job's results (resuming partial files)."""
    client = _client(server)
    try:
        job = client.get(f"/api/jobs/{job_id}")
        if job["state"] != JobState.DONE:
            raise RemoteError(f"job {job_id} is {job['state']}, not done")
        wanted = [a for a in job["artifacts"] if not artifact or a["name"] in artifact]
        out.mkdir(parents=True, exist_ok=True)
        with _bytes_progress() as bar:
            for item in wanted:
                task = bar.add_task(item["filename"], total=item["size"])

                def advance(n: int, task: TaskID = task) -> None:
                    bar.advance(task, n)

                client.download(item["url"], out / Path(item["filename"]).name, advance)
    finally:
        client.close()
    console().print(f"{len(wanted)} file(s) in {out}")
