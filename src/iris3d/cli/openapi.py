"""``iris openapi``: the API's OpenAPI schema, written without starting a server (the web app's
TypeScript client is generated from it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from iris3d.cli.common import friendly_errors


def register(app: typer.Typer) -> None:
    app.command(name="openapi")(openapi)


def openapi_document() -> dict[str, Any]:
    """The schema exactly as ``/openapi.json`` serves it (building the app opens nothing)."""
    from iris3d.api.app import create_app

    schema: dict[str, Any] = create_app().openapi()
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


@friendly_errors
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print (or write) the HTTP API's OpenAPI schema."""
    text = render(openapi_document())
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
