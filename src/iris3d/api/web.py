"""The built web app (``web/dist``) served from the API's own origin, with client-side routes."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# src/iris3d/api/web.py -> the repository root, where `npm run build --prefix web` writes.
_BUILT_WEB_APP = Path(__file__).resolve().parents[3] / "web" / "dist"


def web_app_dir(configured: Path | None) -> Path | None:
    """The folder to serve at ``/``: IRIS_WEB_DIR, else the repository's build; None when the
    chosen folder holds no ``index.html`` (the web app was never built)."""
    folder = configured if configured is not None else _BUILT_WEB_APP
    return folder if (folder / "index.html").is_file() else None


class WebApp(StaticFiles):
    """Static files where an unknown page path (``/studies/abc``) answers ``index.html``, so a
    link into the app opens it; missing assets and API paths stay 404."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True)

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as e:
            if e.status_code != 404 or not _is_page(path):
                raise
            response = await super().get_response("index.html", scope)
        if path in ("", ".", "index.html") or not path.startswith("assets"):
            # Hashed assets may be cached for ever; the page itself must always be revalidated.
            response.headers.setdefault("Cache-Control", "no-cache")
        else:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _is_page(path: str) -> bool:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return not path.startswith(("api/", "assets/")) and "." not in last
