"""Iris's own errors as HTTP answers carrying their message."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from iris3d.errors import IrisError
from iris3d.imageio import LabelFileError
from iris3d.ingest.errors import IngestError, TooLargeError


def status_for(error: IrisError) -> int:
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
