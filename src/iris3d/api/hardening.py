"""Security headers on every answer: what the browser may load, frame, sniff, send and keep.

The web app needs only its own origin: scripts and styles are files (no inline code), the meshopt
decoder compiles WebAssembly (``'wasm-unsafe-eval'``, which allows no JavaScript eval), NiiVue and
three.js read volumes and meshes through ``blob:``/``data:`` URLs. Downloads from an S3 store are
redirects to its public address, which is added where a page fetches or shows files.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iris3d.api.clients import ClientResolver
from iris3d.settings import Settings

HSTS = "max-age=63072000; includeSubDomains"
# Swagger UI (development only) loads from a CDN and starts with an inline script.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc")


def content_security_policy(settings: Settings) -> str:
    files = "'self'"
    if settings.s3_presign and (settings.s3_public_endpoint_url or settings.s3_endpoint_url):
        address = urlsplit(settings.s3_public_endpoint_url or settings.s3_endpoint_url or "")
        if address.scheme and address.netloc:
            files += f" {address.scheme}://{address.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            f"img-src {files} data: blob:",
            f"connect-src {files} data: blob:",
            "worker-src 'self' blob:",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """Pure ASGI middleware (streams pass through untouched, only headers are added)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.csp = content_security_policy(settings)
        self.clients = ClientResolver.from_settings(settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = self.clients.is_https(HTTPConnection(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                csp = _DOCS_CSP if path.startswith(_DOCS_PATHS) else self.csp
                headers.setdefault("Content-Security-Policy", csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if path.startswith("/api/") or path in ("/metrics", "/readyz", "/healthz"):
                    # Private answers: no browser or proxy keeps them (downloads say otherwise).
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
