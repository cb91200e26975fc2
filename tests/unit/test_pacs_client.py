"""The DICOMweb client's handling of what a PACS answers, hostile answers included (the HTTP
exchanges are scripted; the real Orthanc is in tests/integration/test_pacs*.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from iris3d.errors import IrisError
from iris3d.pacs import (
    DicomWebClient,
    PacsAuthError,
    PacsNotFoundError,
    PacsRefusedError,
    PacsTooLargeError,
    PacsUnavailableError,
    SearchFilter,
)
from iris3d.pacs.errors import PacsTimeoutError
from iris3d.settings import PacsServerConfig, Settings

STUDY, SERIES = "1.2.3", "1.2.3.4"
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, **server: str) -> DicomWebClient:
    config = PacsServerConfig(name="Test PACS", url="http://pacs.test/dicom-web", **server)
    return DicomWebClient(config, transport=httpx.MockTransport(handler))


def _multipart(parts: list[bytes], boundary: str = "b0und") -> httpx.Response:
    body = b"".join(
        f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part + b"\r\n"
        for part in parts
    ) + f"--{boundary}--\r\n".encode()
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    return httpx.Response(200, content=body, headers={"Content-Type": content_type})


def _retrieve(client: DicomWebClient, folder: Path, max_bytes: int = 10_000,
              max_instances: int = 10) -> list[Path]:
    return client.retrieve_series(SERIES, folder, study_uid=STUDY, max_bytes=max_bytes,
                                  max_instances=max_instances)


def test_parts_become_numbered_files(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _multipart([b"first" * 10, b"second\r\n--not-a-boundary"])

    files = _retrieve(_client(handler), tmp_path)
    assert [f.read_bytes() for f in files] == [b"first" * 10, b"second\r\n--not-a-boundary"]
    assert seen[0].url.path == f"/dicom-web/studies/{STUDY}/series/{SERIES}"
    assert "application/dicom" in seen[0].headers["accept"]


@pytest.mark.parametrize(
    ("parts", "max_bytes", "max_instances", "message"),
    [
        ([b"x" * 600, b"y" * 600], 1000, 10, "IRIS_MAX_UPLOAD_BYTES"),
        ([b"x"] * 5, 10_000, 3, "IRIS_MAX_ARCHIVE_MEMBERS"),
    ],
)
def test_too_large_series_leave_nothing(
    tmp_path: Path, parts: list[bytes], max_bytes: int, max_instances: int, message: str
) -> None:
    client = _client(lambda request: _multipart(parts))
    with pytest.raises(PacsTooLargeError, match=message):
        _retrieve(client, tmp_path, max_bytes, max_instances)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (httpx.Response(200, json=[]), PacsRefusedError, "multipart DICOM"),
        (_multipart([]), PacsNotFoundError, "no images"),
        (httpx.Response(401), PacsAuthError, "credentials"),
        (httpx.Response(403), PacsAuthError, "credentials"),
        (httpx.Response(404), PacsNotFoundError, "no such study or series"),
        (httpx.Response(503, text="Traceback: secret internals"), PacsRefusedError, "HTTP 503"),
        (httpx.Response(302, headers={"Location": "http://evil.test/"}), PacsRefusedError, "302"),
    ],
)
def test_retrieval_errors_are_typed_and_plain(
    tmp_path: Path, answer: httpx.Response, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words) as caught:
        _retrieve(_client(lambda request: answer), tmp_path)
    assert "Test PACS" in str(caught.value)
    assert "internals" not in str(caught.value) and "pacs.test" not in str(caught.value)


def test_unreachable_and_slow_servers(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(PacsUnavailableError, match="may be down"):
        _client(refuse).search_series(SearchFilter())
    with pytest.raises(PacsTimeoutError, match="in time"):
        _retrieve(_client(stall), tmp_path)


@pytest.mark.parametrize("body", [b"{not json", b'{"a": 1}', b"[1, 2]", b"\xff\xfe"])
def test_search_answers_that_are_not_dicom_json(body: bytes) -> None:
    client = _client(lambda request: httpx.Response(200, content=body))
    with pytest.raises(PacsRefusedError, match="Test PACS"):
        client.search_studies(SearchFilter())


def test_search_query_and_credentials() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        hit = {"0020000D": {"vr": "UI", "Value": [STUDY]},
               "0020000E": {"vr": "UI", "Value": [SERIES]},
               "00080021": {"vr": "DA", "Value": ["20240315"]},
               "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]},
               "00201209": {"vr": "IS", "Value": ["12"]}}
        return httpx.Response(200, json=[hit, {"junk": 1}])

    query = SearchFilter(date_from="2024-03-01", date_to="2024-03-31", modality="ct",
                         description="chest")
    [hit] = _client(handler, auth="bearer", secret="tok").search_series(query)
    assert (hit.date, hit.patient_name, hit.instance_count) == ("2024-03-15", "Doe^Jane", 12)
    url = str(seen[0].url)
    assert "StudyDate=20240301-20240331" in url and "SeriesDescription=*chest*" in url
    assert "Modality=CT" in url
    assert seen[0].headers["authorization"] == "Bearer tok"


def test_hostile_identifiers_never_reach_the_url(tmp_path: Path) -> None:
    client = _client(lambda request: httpx.Response(500))
    for uid in ("../../etc", "1.2/3", "1" * 65, ""):
        with pytest.raises(PacsNotFoundError, match="not a DICOM UID"):
            client.retrieve_series(uid, tmp_path, study_uid=STUDY, max_bytes=1, max_instances=1)
    with pytest.raises(IrisError, match="not a date"):
        client.search_series(SearchFilter(date_from="yesterday"))


def test_server_settings_refuse_missing_credentials() -> None:
    with pytest.raises(ValueError, match="basic authentication needs"):
        PacsServerConfig(name="x", url="http://pacs/", auth="basic", username="u")
    with pytest.raises(ValueError, match="bearer authentication needs"):
        PacsServerConfig(name="x", url="http://pacs/", auth="bearer")
    with pytest.raises(ValueError):
        PacsServerConfig(name="x", url="ftp://pacs/")


def test_site_servers_need_their_own_names() -> None:
    twice = [{"name": "PACS", "url": "http://a/"}, {"name": "PACS", "url": "http://b/"}]
    with pytest.raises(ValueError, match="its own name"):
        Settings(pacs_servers=twice)
    with pytest.raises(ValueError, match="not the address"):
        PacsServerConfig(name="x", url="http://user:pw@pacs/dicom-web")
