"""The DICOMweb client: QIDO-RS searches, WADO-RS retrieval of one series into a folder, and
STOW-RS of files. Every network or HTTP failure becomes a :class:`PacsError` with a plain
message naming the server (never its address, credentials or its own error text)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from iris3d.errors import IrisError
from iris3d.pacs.errors import (
    PacsAuthError,
    PacsError,
    PacsNotFoundError,
    PacsRefusedError,
    PacsTimeoutError,
    PacsTooLargeError,
    PacsUnavailableError,
)
from iris3d.pacs.multipart import PartWriter, boundary_of, stow_body
from iris3d.pacs.results import (
    SERIES_FIELDS,
    STUDY_FIELDS,
    SeriesHit,
    StudyHit,
    series_hits,
    study_hits,
)
from iris3d.settings import PacsServerConfig

_WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
_FAILED_SOPS = "00081198"
_STORED_SOPS = "00081199"


@dataclass(frozen=True)
class SearchFilter:
    """What to look for; dates are ISO (YYYY-MM-DD), the description may hold * and ?."""

    date_from: str | None = None
    date_to: str | None = None
    modality: str | None = None
    description: str | None = None
    limit: int = 100


class DicomWebClient:
    def __init__(
        self,
        server: PacsServerConfig,
        timeout_s: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server
        auth: httpx.Auth | None = None
        headers: dict[str, str] = {}
        if server.auth == "basic" and server.username and server.secret:
            auth = httpx.BasicAuth(server.username, server.secret)
        elif server.auth == "bearer" and server.secret:
            headers["Authorization"] = f"Bearer {server.secret}"
        # Redirects are not followed: they would carry the credentials elsewhere.
        self._http = httpx.Client(
            base_url=server.url.rstrip("/"),
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DicomWebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- QIDO-RS ---

    def search_studies(self, query: SearchFilter) -> list[StudyHit]:
        params = _common_params(query, STUDY_FIELDS)
        if query.modality:
            params["ModalitiesInStudy"] = query.modality.upper()
        if query.description:
            params["StudyDescription"] = _wildcard(query.description)
        return study_hits(self._json("/studies", params, "search"))

    def search_series(
        self, query: SearchFilter, *, study_uid: str | None = None, series_uid: str | None = None
    ) -> list[SeriesHit]:
        params = _common_params(query, SERIES_FIELDS)
        if query.modality:
            params["Modality"] = query.modality.upper()
        if query.description:
            params["SeriesDescription"] = _wildcard(query.description)
        if series_uid:
            params["SeriesInstanceUID"] = series_uid
        path = f"/studies/{_uid(study_uid)}/series" if study_uid else "/series"
        return series_hits(self._json(path, params, "search"))

    # --- WADO-RS ---

    def study_of(self, series_uid: str) -> str:
        """The StudyInstanceUID of a series, from the PACS."""
        hits = self.search_series(SearchFilter(limit=1), series_uid=series_uid)
        if not hits:
            raise PacsNotFoundError(f"The PACS {self.server.name!r} has no such series.")
        return hits[0].study_uid

    def retrieve_series(
        self,
        series_uid: str,
        folder: Path,
        *,
        study_uid: str | None = None,
        max_bytes: int,
        max_instances: int,
    ) -> list[Path]:
        """Every instance of the series as ``folder/NNNNNN.dcm``; on any error none is left."""
        study_uid = study_uid or self.study_of(series_uid)
        folder.mkdir(parents=True, exist_ok=True)
        path = f"/studies/{_uid(study_uid)}/series/{_uid(series_uid)}"
        writer: PartWriter | None = None
        try:
            with (
                self._call("retrieval"),
                self._http.stream("GET", path, headers={"Accept": _WADO_ACCEPT}) as answer,
            ):
                self._check(answer, "retrieval")
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes + 2**20:
                    raise PacsTooLargeError()
                boundary = boundary_of(answer.headers.get("content-type", ""), self.server.name)
                writer = PartWriter(boundary, folder, max_bytes=max_bytes, max_parts=max_instances)
                for chunk in answer.iter_bytes():
                    writer.feed(chunk)
                written = writer.finish()
        except BaseException:
            if writer is not None:
                writer.close()
                for part in writer.written:
                    part.unlink(missing_ok=True)
            raise
        if not written:
            raise PacsNotFoundError(f"The PACS {self.server.name!r} returned no images for the "
                                    "series.")
        return written

    def series_metadata(self, study_uid: str, series_uid: str) -> dict[str, Any]:
        """The DICOM JSON header of the series' first instance (WADO-RS metadata). It names the
        patient: callers keep it in memory and never store or log it."""
        path = f"/studies/{_uid(study_uid)}/series/{_uid(series_uid)}/metadata"
        items = self._json(path, {}, "metadata request")
        if not items:
            raise PacsNotFoundError(f"The PACS {self.server.name!r} has no such series.")
        first: dict[str, Any] = items[0]
        return first

    # --- STOW-RS ---

    def store(self, paths: list[Path] | list[bytes]) -> int:
        """Send DICOM files (or instances in memory); return how many instances the PACS says
        it stored."""
        content_type, length, chunks = stow_body(paths)
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(length),
            "Accept": "application/dicom+json",
        }
        with self._call("sending"):
            answer = self._http.post("/studies", content=chunks, headers=headers)
        self._check(answer, "sending")
        try:
            body: Any = answer.json()
        except ValueError:
            return len(paths)  # an XML or empty answer with a success status
        failed = _sequence(body, _FAILED_SOPS)
        if failed:
            raise PacsRefusedError(
                f"The PACS {self.server.name!r} refused {len(failed)} of {len(paths)} files."
            )
        return len(_sequence(body, _STORED_SOPS)) or len(paths)

    # --- plumbing ---

    def _json(self, path: str, params: dict[str, str], what: str) -> Any:
        headers = {"Accept": "application/dicom+json"}
        # Wildcards, commas and date ranges stay literal: some servers (Orthanc) do not decode
        # %2A in a match key, so the query is encoded here rather than by httpx.
        query = urlencode(params, safe="*?,-", quote_via=quote)
        with self._call(what):
            answer = self._http.get(f"{path}?{query}" if query else path, headers=headers)
        self._check(answer, what)
        if answer.status_code == 204 or not answer.content:
            return []
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise PacsRefusedError(
                f"The PACS {self.server.name!r} answered the {what} with something other than "
                "DICOM JSON."
            )
        return body

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        name = self.server.name
        try:
            yield
        except PacsError:
            raise
        except httpx.TimeoutException as e:
            raise PacsTimeoutError(
                f"The PACS {name!r} did not answer the {what} in time: it may be down or busy."
            ) from e
        except httpx.TransportError as e:
            raise PacsUnavailableError(
                f"Could not reach the PACS {name!r} for the {what}: it may be down, or its "
                "address is wrong."
            ) from e

    def _check(self, answer: httpx.Response, what: str) -> None:
        code, name = answer.status_code, self.server.name
        if code < 300:
            return
        if code in (401, 403):
            raise PacsAuthError(
                f"The PACS {name!r} refused Iris's credentials (HTTP {code}): check the user "
                "name, password or token."
            )
        if code == 404:
            raise PacsNotFoundError(
                f"The PACS {name!r} has no such study or series, or its DICOMweb address is "
                "wrong (HTTP 404)."
            )
        raise PacsRefusedError(
            f"The PACS {name!r} answered the {what} with an error (HTTP {code})."
        )


def _uid(value: str) -> str:
    """A DICOM UID, checked before it goes into a URL path."""
    if not value or len(value) > 64 or not all(c.isdigit() or c == "." for c in value):
        raise PacsNotFoundError(f"{value[:70]!r} is not a DICOM UID (digits and dots).")
    return value


def _dicom_date(iso: str) -> str:
    digits = iso.replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        raise IrisError(f"{iso[:20]!r} is not a date (YYYY-MM-DD).")
    return digits


def _common_params(query: SearchFilter, fields: tuple[str, ...]) -> dict[str, str]:
    params = {"limit": str(query.limit), "includefield": ",".join(fields)}
    if query.date_from or query.date_to:
        start = _dicom_date(query.date_from) if query.date_from else ""
        end = _dicom_date(query.date_to) if query.date_to else ""
        params["StudyDate"] = start if start == end else f"{start}-{end}"
    return params


def _wildcard(text: str) -> str:
    """A substring match, as QIDO-RS's wildcards express it."""
    cleaned = text.replace("\\", "").strip()
    return cleaned if "*" in cleaned or "?" in cleaned else f"*{cleaned}*"


def _sequence(body: Any, tag: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(tag), dict):
        return []
    value = body[tag].get("Value")
    return value if isinstance(value, list) else []
