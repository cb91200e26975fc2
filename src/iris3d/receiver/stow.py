"""STOW-RS bodies (``multipart/related; type="application/dicom"``) streamed into the inbox.

Each part is written to its own file in the inbox's incoming folder as it arrives, never whole
in memory; the request as a whole may hold at most IRIS_MAX_UPLOAD_BYTES. Only the three UIDs
are read from each part here (pydicom, stopping before the pixels): everything else is read
later, in the limited child process of the upload intake.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pydicom
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from iris3d.api.upload_stream import feed_multipart
from iris3d.errors import IrisError
from iris3d.ingest.errors import TooLargeError
from iris3d.receiver.inbox import BadInstanceError, Inbox, InboxFullError, InstanceIds, Stored

DICOM = b"application/dicom"
_UID_TAGS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")


class StowBodyError(IrisError):
    """The body is not a STOW-RS request: send multipart/related; type="application/dicom"."""


@dataclass
class Outcome:
    """One part's fate, for the STOW-RS answer."""

    sop_class: str
    sop_uid: str
    stored: Stored | None
    reason: str = ""


@dataclass
class _Parts:
    inbox: Inbox
    max_bytes: int
    max_parts: int
    paths: list[Path] = field(default_factory=list)
    total: int = 0
    _handle: BinaryIO | None = None
    _header_field: bytes = b""
    _header_value: bytes = b""
    _content_type: bytes = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._add_field(d[s:e]),
            "on_header_value": lambda d, s, e: self._add_value(d[s:e]),
            "on_header_end": self._header_end,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        if len(self.paths) >= self.max_parts:
            raise TooLargeError(
                f"the request holds more than {self.max_parts} parts (IRIS_MAX_ARCHIVE_MEMBERS); "
                "send fewer instances at a time"
            )
        self._content_type = DICOM  # a part without its own Content-Type has the body's type
        path = self.inbox.incoming_file()
        self.paths.append(path)
        self._handle = path.open("wb")

    def _add_field(self, data: bytes) -> None:
        self._header_field += data

    def _add_value(self, data: bytes) -> None:
        self._header_value += data

    def _header_end(self) -> None:
        if self._header_field.lower() == b"content-type":
            self._content_type = parse_options_header(self._header_value)[0].lower()
        self._header_field = self._header_value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.total += end - start
        if self.total > self.max_bytes:
            raise TooLargeError(
                f"the request is larger than this server accepts ({self.max_bytes / 2**30:.3g} "
                "GB, IRIS_MAX_UPLOAD_BYTES); send fewer instances at a time"
            )
        if self._handle is not None and self._content_type == DICOM:
            self._handle.write(data[start:end])

    def _end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._content_type != DICOM:
            self.paths[-1].unlink(missing_ok=True)
            self.paths[-1] = Path()  # a part of another type: refused in the answer

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def check_content_type(header: str) -> bytes:
    """The boundary of a STOW-RS body; StowBodyError for anything else."""
    kind, options = parse_options_header(header)
    declared = options.get(b"type", DICOM).strip(b'"').lower()
    boundary = options.get(b"boundary")
    if kind.lower() != b"multipart/related" or declared != DICOM or not boundary:
        raise StowBodyError()
    return boundary


async def receive(
    chunks: AsyncIterator[bytes], boundary: bytes, inbox: Inbox, max_bytes: int, max_parts: int
) -> list[Path]:
    """Write each DICOM part of the body to its own incoming file; ``Path()`` marks a part of
    another media type."""
    parts = _Parts(inbox, max_bytes, max_parts)
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    try:
        await feed_multipart(parser, chunks)
    except MultipartParseError as e:
        _discard(parts.paths)
        raise StowBodyError(f"malformed multipart/related body: {e}") from e
    except BaseException:
        _discard(parts.paths)
        raise
    finally:
        parts.close()
    return parts.paths


def _discard(paths: list[Path]) -> None:
    for path in paths:
        if path != Path():
            path.unlink(missing_ok=True)


def file_in(inbox: Inbox, owner_id: str, path: Path) -> Outcome:
    """Keep one received part in the owner's inbox (or say why not); the file goes either way."""
    if path == Path():
        return Outcome("", "", None, "not application/dicom")
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(_UID_TAGS))
        sop_class, sop_uid = str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", ""))
        ids = InstanceIds(str(ds.get("StudyInstanceUID", "")),
                          str(ds.get("SeriesInstanceUID", "")), sop_uid)
    except Exception:  # pydicom raises many types: not a DICOM file we can read
        path.unlink(missing_ok=True)
        return Outcome("", "", None, "not a readable DICOM instance")
    try:
        return Outcome(sop_class, sop_uid, inbox.accept(owner_id, ids, path))
    except (BadInstanceError, InboxFullError) as e:
        return Outcome(sop_class, sop_uid, None, str(e))
    finally:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
