"""STOW-RS requests as a PACS sends them (multipart/related of application/dicom parts)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path


def stow_body(files: Iterable[Path | bytes]) -> tuple[bytes, str]:
    """The body and its Content-Type for these DICOM files (or raw parts)."""
    boundary = f"iris-{secrets.token_hex(8)}"
    body = bytearray()
    for item in files:
        content = item if isinstance(item, bytes) else item.read_bytes()
        body += f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f'multipart/related; type="application/dicom"; boundary={boundary}'
