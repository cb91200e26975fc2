"""The API's one error table: domain errors become statuses with a plain ``{"detail": ...}``."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from iris3d.api.errors import UNEXPECTED, install_error_handlers, status_for
from iris3d.api.security import BadLinkError
from iris3d.errors import IrisError
from iris3d.imageio import LabelFileError
from iris3d.ingest.errors import CorruptFileError, IngestError, TooLargeError
from iris3d.ingest.sandbox import ReaderLimitError
from iris3d.jobs.errors import JobCancelledError
from iris3d.pacs.errors import (
    PacsNotFoundError,
    PacsRefusedError,
    PacsSourceGoneError,
    PacsTimeoutError,
    PacsTooLargeError,
)
from iris3d.segment.base import SegmentationError
from iris3d.store.blobs import BlobNotFoundError
from iris3d.store.users import EmailTakenError, InviteInvalidError


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (IrisError(), 400),
        (SegmentationError("no structures"), 400),
        (JobCancelledError(), 400),
        (IngestError(), 422),
        (CorruptFileError("ct.nii: damaged"), 422),
        (ReaderLimitError(), 422),  # a subclass of a listed class takes its status
        (LabelFileError("labels.nii: not integers"), 422),
        (TooLargeError("too many voxels"), 413),  # the nearest class wins over IngestError
        (InviteInvalidError(), 403),
        (BadLinkError(), 404),
        (BlobNotFoundError("studies/x"), 404),
        (EmailTakenError(), 409),
        (PacsRefusedError(), 502),  # a gateway's failure: the server behind Iris failed
        (PacsTimeoutError(), 504),  # nearer than its parent PacsUnavailableError (502)
        (PacsNotFoundError(), 404),
        (PacsSourceGoneError(), 409),
        (PacsTooLargeError(), 413),
    ],
)
def test_each_domain_error_has_one_status(error: IrisError, status: int) -> None:
    assert status_for(error) == status


def _app(error: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/fail")
    def fail() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


def test_a_domain_error_answers_with_its_message_as_detail() -> None:
    response = _app(TooLargeError("the volume has 2e9 voxels; at most 1e9")).get("/fail")
    assert response.status_code == 413
    assert response.json() == {"detail": "the volume has 2e9 voxels; at most 1e9"}


def test_the_detail_is_scrubbed_of_paths_and_control_characters(tmp_path: Path) -> None:
    hostile = f"{tmp_path}/staging/Doe^John\x1b[2J\n.dcm: bad\x00 " + "x" * 5000
    detail = _app(CorruptFileError(hostile)).get("/fail").json()["detail"]
    assert str(tmp_path) not in detail and "staging" not in detail
    assert detail.startswith("Doe^John .dcm: bad x")  # the line break became a space
    assert len(detail) <= 1000 and detail.isprintable()


def test_an_unexpected_error_is_a_500_with_the_same_shape() -> None:
    response = _app(RuntimeError("/srv/iris/secret.py line 3: KeyError 'DOE'")).get("/fail")
    assert response.status_code == 500
    assert response.json() == {"detail": UNEXPECTED}
