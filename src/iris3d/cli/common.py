"""What every command shares: one console, and IrisError turned into a message, not a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from iris3d.errors import IrisError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USER_ERROR = 2


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
            error_console().print(f"[bold red]error:[/] {e}", markup=True, soft_wrap=True)
            raise typer.Exit(EXIT_USER_ERROR) from None

    return wrapper
