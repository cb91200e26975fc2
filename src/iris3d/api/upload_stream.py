"""Multipart uploads streamed straight to files in a staging folder, never whole in memory.

Each file part is written to a name made here (``part-000001``); the name the browser sent is
used only to guess the file type from its extension: never as a study's name, since file names
often carry the patient's name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio
from fastapi import HTTPException, Request, status
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from iris3d.contracts.formats import upload_suffix
from iris3d.ingest.errors import TooLargeError

_MAX_FIELD_BYTES = 4096
_BATCH_BYTES = 1 << 20  # parsed in a worker thread a megabyte at a time


@dataclass
class ReceivedFile:
    path: Path
    suffix: str
    client_name: str
    size: int = 0


@dataclass
class ReceivedForm:
    files: list[ReceivedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


class _FormWriter:
    """python-multipart callbacks writing file parts to disk and keeping small text fields."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.form = ReceivedForm()
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field: str | None = None
        self._text = bytearray()
        self._file: ReceivedFile | None = None
        self._handle: BinaryIO | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._add("_header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("_header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _add(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def _part_begin(self) -> None:
        self._headers = {}
        self._field = None
        self._file = None
        self._text = bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._field = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            client_name = options[b"filename"].decode("utf-8", "replace")
            index = len(self.form.files) + 1
            path = self.folder / f"part-{index:06d}"
            self._file = ReceivedFile(path, upload_suffix(client_name), client_name)
            self._handle = path.open("wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None and self._handle is not None:
            self._file.size += len(chunk)
            if self.form.total_bytes + self._file.size > self.max_bytes:
                raise TooLargeError(too_large_message(self.max_bytes))
            self._handle.write(chunk)
        else:
            self._text += chunk
            if len(self._text) > _MAX_FIELD_BYTES:
                raise HTTPException(
                    status.HTTP_400_BAD_REQUEST, f"form field {self._field} too long"
                )

    def _part_end(self) -> None:
        if self._file is not None and self._handle is not None:
            self._handle.close()
            self._handle = None
            self.form.files.append(self._file)
        elif self._field:
            self.form.fields[self._field] = self._text.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def too_large_message(max_bytes: int) -> str:
    return f"The upload is larger than this server accepts ({max_bytes / 2**30:.3g} GB)."


def check_declared_length(request: Request, max_bytes: int, overhead: int = 1 << 20) -> None:
    """Refuse at once when Content-Length already says too much."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + overhead:
        raise TooLargeError(too_large_message(max_bytes))



async def feed_multipart(parser: MultipartParser, chunks: AsyncIterator[bytes]) -> None:
    """Give ``parser`` a whole body, in batches of a few MiB parsed off the event loop (its
    callbacks write files)."""
    batch = bytearray()
    async for chunk in chunks:
        batch += chunk
        if len(batch) >= _BATCH_BYTES:
            await anyio.to_thread.run_sync(parser.write, bytes(batch))
            batch.clear()
    await anyio.to_thread.run_sync(parser.write, bytes(batch))
    parser.finalize()

async def receive_form(request: Request, folder: Path, max_bytes: int) -> ReceivedForm:
    """Parse a multipart/form-data body into ``folder``, counting bytes as they arrive."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send the files as multipart/form-data."
        )
    check_declared_length(request, max_bytes)
    writer = _FormWriter(folder, max_bytes)
    parser = MultipartParser(boundary, writer.callbacks())  # type: ignore[arg-type]
    try:
        await feed_multipart(parser, request.stream())
    except MultipartParseError as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"malformed multipart body: {e}") from e
    finally:
        writer.close()
    return writer.form
