"""Iris's own errors as HTTP answers carrying their message."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from iris3d.errors import IrisError
from iris3d.imageio import LabelFileError
from iris3d.ingest.errors import IngestError, TooLargeError
from iris3d.pacs.errors import (
    PacsError,
    PacsNotFoundError,
    PacsSourceGoneError,
    PacsTimeoutError,
    PacsTooLargeError,
)


def status_for(error: IrisError) -> int:
    if isinstance(error, PacsError):
        return _pacs_status(error)
    if isinstance(error, TooLargeError):
        return status.HTTP_413_CONTENT_TOO_LARGE
    if isinstance(error, IngestError | LabelFileError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    return status.HTTP_400_BAD_REQUEST


async def _iris_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IrisError)
    return JSONResponse({"detail": str(error)}, status_code=status_for(error))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IrisError, _iris_error)


def _pacs_status(error: PacsError) -> int:
    """The PACS's failures are a gateway's: Iris is fine, the server behind it is not."""
    if isinstance(error, PacsSourceGoneError):
        return status.HTTP_409_CONFLICT
    if isinstance(error, PacsNotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, PacsTooLargeError):
        return status.HTTP_413_CONTENT_TOO_LARGE
    if isinstance(error, PacsTimeoutError):
        return status.HTTP_504_GATEWAY_TIMEOUT
    return status.HTTP_502_BAD_GATEWAY
