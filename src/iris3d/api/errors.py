"""Iris's own errors as HTTP answers: one table from error class to status, one handler.

Routes raise domain errors (an upload that cannot be read, an email that is taken) and let them
through; the handler installed by :func:`install_error_handlers` answers with the status from
:data:`STATUS_FOR` and ``{"detail": <message>}``, the shape FastAPI gives its own errors, so the web
app and ``iris remote`` read every refusal the same way.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from iris3d.api.security import BadLinkError
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
from iris3d.scrub import scrub
from iris3d.store.blobs import BlobNotFoundError
from iris3d.store.users import EmailTakenError, InviteInvalidError

# The nearest class in an error's MRO decides; an IrisError not listed is a bad request.
STATUS_FOR: dict[type[IrisError], int] = {
    IrisError: status.HTTP_400_BAD_REQUEST,
    IngestError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    LabelFileError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    TooLargeError: status.HTTP_413_CONTENT_TOO_LARGE,
    InviteInvalidError: status.HTTP_403_FORBIDDEN,
    BadLinkError: status.HTTP_404_NOT_FOUND,
    BlobNotFoundError: status.HTTP_404_NOT_FOUND,
    EmailTakenError: status.HTTP_409_CONFLICT,
    # The PACS's failures are a gateway's: Iris is fine, the server behind it is not.
    PacsError: status.HTTP_502_BAD_GATEWAY,
    PacsSourceGoneError: status.HTTP_409_CONFLICT,
    PacsNotFoundError: status.HTTP_404_NOT_FOUND,
    PacsTooLargeError: status.HTTP_413_CONTENT_TOO_LARGE,
    PacsTimeoutError: status.HTTP_504_GATEWAY_TIMEOUT,
}

UNEXPECTED = "The server failed unexpectedly; its log has details."


def status_for(error: IrisError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return status.HTTP_400_BAD_REQUEST  # unreachable: IrisError is in the table


async def _iris_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IrisError)
    return JSONResponse({"detail": scrub(error)}, status_code=status_for(error))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Starlette logs the traceback after this answer; the client learns nothing of our insides.
    return JSONResponse({"detail": UNEXPECTED}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IrisError, _iris_error)
    app.add_exception_handler(Exception, _unexpected)
