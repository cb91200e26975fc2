"""Stored files as HTTP answers: ETags, conditional requests and single byte ranges."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

from iris3d.store.blobs import BlobStore

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """``(start, end)`` inclusive for one satisfiable range; ``None`` to send the whole file
    (no header, several ranges, or a form we do not serve); ``False`` if it cannot be met."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return (max(size - length, 0), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return (start, end)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def blob_response(
    blobs: BlobStore, record: dict[str, Any], request: Request, *, inline: bool = False
) -> Response:
    """Answer a GET for the artifact ``record`` (key, filename, size, etag, media_type)."""
    key, size = str(record["key"]), int(record["size"])
    filename = str(record["filename"])
    presigned = blobs.presigned_url(key, 60.0, filename)
    if presigned is not None:
        return RedirectResponse(presigned, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    etag = f'"{record["etag"]}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{filename}"',
    }
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    wanted = parse_range(request.headers.get("range", ""), size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        wanted = None  # the client's copy is stale: it gets the whole new file
    media_type = str(record["media_type"])
    if wanted is False:
        return Response(
            status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE,
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    if isinstance(wanted, tuple):
        start, end = wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)
        return StreamingResponse(
            blobs.read(key, start, end),
            status_code=status.HTTP_206_PARTIAL_CONTENT,
            media_type=media_type,
            headers=headers,
        )
    headers["Content-Length"] = str(size)
    return StreamingResponse(blobs.read(key), media_type=media_type, headers=headers)
