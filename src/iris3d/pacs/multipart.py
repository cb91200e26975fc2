"""``multipart/related`` bodies of DICOM files: read from a WADO-RS answer a chunk at a time into
numbered files (capped in bytes and parts), and written for STOW-RS without holding files in
memory. The parsing itself is python-multipart's."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from email.message import Message
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser

from iris3d.pacs.errors import PacsRefusedError, PacsTooLargeError

_CHUNK = 1 << 20


def boundary_of(content_type: str, server: str) -> str:
    """The boundary of a ``multipart/related`` Content-Type header from ``server``."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/related" or not isinstance(boundary, str):
        raise PacsRefusedError(
            f"The PACS {server!r} answered the retrieval with something other than multipart "
            "DICOM."
        )
    return boundary


class PartWriter:
    """Feeds a multipart body to the parser; each part becomes ``folder/NNNNNN.dcm``."""

    def __init__(self, boundary: str, folder: Path, *, max_bytes: int, max_parts: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_parts = max_parts
        self.written: list[Path] = []
        self.total = 0
        self._file: IO[bytes] | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_part_data": self._data,
                "on_part_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finish(self) -> list[Path]:
        self._parser.finalize()
        self._end()
        return self.written

    def close(self) -> None:
        self._end()

    def _begin(self) -> None:
        self._end()
        if len(self.written) >= self.max_parts:
            raise PacsTooLargeError(
                f"The series has more than {self.max_parts} images, more than this server "
                "accepts (IRIS_MAX_ARCHIVE_MEMBERS)."
            )
        path = self.folder / f"{len(self.written) + 1:06d}.dcm"
        self.written.append(path)
        self._file = path.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.total += end - start
        if self.total > self.max_bytes:
            raise PacsTooLargeError(
                f"The series is larger than {self.max_bytes / 2**20:,.0f} MiB, more than this "
                "server accepts (IRIS_MAX_UPLOAD_BYTES)."
            )
        if self._file is not None:
            self._file.write(data[start:end])

    def _end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def stow_body(parts: Iterable[Path | bytes]) -> tuple[str, int, Iterator[bytes]]:
    """The Content-Type, exact length and chunks of a STOW-RS body holding ``parts`` (files, or
    instances already in memory)."""
    boundary = f"iris-{secrets.token_hex(16)}"
    items = list(parts)
    head = f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
    tail = f"--{boundary}--\r\n".encode()
    length = sum(len(head) + _size(part) + 2 for part in items) + len(tail)

    def chunks() -> Iterator[bytes]:
        for part in items:
            yield head
            if isinstance(part, bytes):
                yield part
            else:
                with part.open("rb") as source:
                    while block := source.read(_CHUNK):
                        yield block
            yield b"\r\n"
        yield tail

    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    return content_type, length, chunks()


def _size(part: Path | bytes) -> int:
    return len(part) if isinstance(part, bytes) else part.stat().st_size
