"""The built web app from the API's own origin: pages, client-side routes, assets, and the
committed OpenAPI schema the web client is generated from."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.service import api_client, service_settings
from typer.testing import CliRunner

from iris3d.cli.app import build_app
from iris3d.cli.openapi import openapi_document, render

SCHEMA = Path(__file__).resolve().parents[2] / "web" / "src" / "api" / "schema.json"


def _web_build(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>Iris app</title>")
    (folder / "assets" / "app-1234.js").write_text("console.log('iris')")
    return folder


def test_the_web_app_is_served_with_its_client_side_routes(tmp_path: Path) -> None:
    settings = service_settings(tmp_path / "data", web_dir=_web_build(tmp_path / "dist"))
    with api_client(settings) as client:
        front = client.get("/", follow_redirects=False)
        assert front.status_code == 200 and "Iris app" in front.text
        assert front.headers["cache-control"] == "no-cache"
        deep = client.get("/studies/abc123?hide=liver")
        assert deep.status_code == 200 and "Iris app" in deep.text
        asset = client.get("/assets/app-1234.js")
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert client.get("/assets/missing.js").status_code == 404
        assert client.get("/favicon.png").status_code == 404
        api = client.get("/api/studies")
        assert api.status_code == 401 and api.headers["content-type"] == "application/json"
        assert client.get("/docs").status_code == 200


def test_iris_openapi_prints_the_schema_the_server_serves(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    result = CliRunner().invoke(build_app(), ["openapi", "--output", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    with api_client(service_settings(tmp_path / "data")) as client:
        assert written == client.get("/openapi.json").json()
    assert "/api/studies" in written["paths"]


def test_the_web_clients_committed_schema_is_current() -> None:
    assert SCHEMA.read_text() == render(openapi_document()), (
        "web/src/api/schema.json is stale: run `.venv/bin/iris openapi -o web/src/api/schema.json`"
        " (scripts/setup.sh does it)"
    )
