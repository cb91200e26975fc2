"""What every command shares: one console, and IrisError turned into a message, not a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from iris3d.contracts import EngineName
from iris3d.errors import IrisError
from iris3d.ingest.itk_header import Detached
from iris3d.ingest.limits import ReadLimits
from iris3d.scrub import scrub
from iris3d.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USER_ERROR = 2

DataFileOption = Annotated[
    bool,
    typer.Option(
        "--data-file-anywhere",
        help="Let an NRRD/MHA header read its voxels from a file outside its own folder.",
    ),
]


EngineOption = Annotated[
    EngineName,
    typer.Option(
        "--engine", "-e",
        help="auto: TotalSegmentator where its models are installed, else tissue; import: your "
        "own segmentation. With --segmentation, auto becomes import; another engine is refused.",
    ),
]
SegmentationOption = Annotated[
    Path | None,
    typer.Option("--segmentation", help="Your own label map (NIfTI), a folder of NIfTI masks, "
                 "or a DICOM-SEG: imported instead of segmenting (--engine import)."),
]


def detached_policy(anywhere: bool) -> Detached:
    """On the command line a header's data file may sit beside it; elsewhere only when asked."""
    return Detached.ANYWHERE if anywhere else Detached.SAME_FOLDER


def read_limits() -> ReadLimits:
    """The limits of this command's settings (``IRIS_MAX_VOXELS`` and so on)."""
    return ReadLimits.from_settings(get_settings())


def console() -> Console:
    return Console(highlight=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print an :class:`IrisError` as ``error: <message>`` on stderr and exit with status 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except IrisError as e:
            # A message may quote a file name; as markup, "[/]" in one would crash the printing.
            message = escape(scrub(e, keep_paths=True))
            error_console().print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None

    return wrapper
