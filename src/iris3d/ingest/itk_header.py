"""NRRD and MetaImage headers read here, before SimpleITK opens anything.

Both formats let a header name other files to read the voxels from (MetaImage ``ElementDataFile``
with a path, a ``LIST`` or a numbered pattern; NRRD ``data file:`` likewise), which would let a
header read any file on the machine. :func:`check_references` allows such files only under
:class:`Detached` policy; the service refuses them all (a header and its data uploaded together
in a zip are unpacked into one folder and allowed there, as :attr:`Detached.SAME_FOLDER`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from iris3d.ingest.errors import CorruptFileError, UnsafeReferenceError, UnsupportedFormatError

MAX_HEADER_BYTES = 1 << 20
_MAX_LISTED_FILES = 100_000
_PATTERN = re.compile(r"^(\S*%\S*)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)(\s+\d+)?\s*$")


class Detached(StrEnum):
    """Where a header may take its voxel data from."""

    REFUSE = "refuse"  # only from the header's own file (the service's policy)
    SAME_FOLDER = "same-folder"  # also from files beside it, never above or through a link
    ANYWHERE = "anywhere"  # also from any path (the CLI, when the user asks explicitly)


@dataclass(frozen=True)
class ItkHeader:
    kind: str  # "metaimage" or "nrrd"
    data_files: tuple[str, ...]  # empty when the voxels follow the header in the same file
    data_offset: int  # where attached voxels start
    encoding: str  # "raw", "gzip", "bzip2", "ascii", "hex" or "zlib" (compressed MetaImage)


def read_itk_header(path: Path) -> ItkHeader:
    with path.open("rb") as f:
        head = f.read(MAX_HEADER_BYTES)
    if head.startswith(b"NRRD"):
        return _nrrd(head, path.name)
    return _metaimage(head, path.name)


def _lines(head: bytes, name: str) -> list[tuple[str, int]]:
    """Each header line and the offset just past it."""
    out: list[tuple[str, int]] = []
    start = 0
    while (end := head.find(b"\n", start)) >= 0:
        out.append((head[start:end].rstrip(b"\r").decode("latin-1"), end + 1))
        start = end + 1
    return out


def _nrrd(head: bytes, name: str) -> ItkHeader:
    fields: dict[str, str] = {}
    lines = _lines(head, name)
    end = len(head)  # a detached header may simply end
    for index, (line, after) in enumerate(lines[1:], start=1):
        if not line.strip():
            end = after
            break
        if line.startswith("#") or _is_key_value_pair(line):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise CorruptFileError(f"{name}: NRRD header line {index + 1} is not 'field: value'")
        field = key.strip().lower().replace(" ", "")
        fields[field] = value.strip()
        if field == "datafile" and value.strip().upper().startswith("LIST"):
            _check_shape_fields(fields.get("dimension"), fields.get("sizes"), name)
            listed = [entry.strip() for entry, _ in lines[index + 1 :] if entry.strip()]
            return ItkHeader("nrrd", tuple(listed) or ("LIST",), len(head), _nrrd_encoding(fields))
    _check_shape_fields(fields.get("dimension"), fields.get("sizes"), name)
    data = fields.get("datafile")
    files = _pattern_files(data, name) if data else ()
    return ItkHeader("nrrd", files, end, _nrrd_encoding(fields))


def _is_key_value_pair(line: str) -> bool:
    """``key:=value`` lines carry metadata, not fields."""
    pair, field = line.find(":="), line.find(": ")
    return pair >= 0 and (field < 0 or pair < field)


def _check_shape_fields(dimension: str | None, sizes: str | None, name: str) -> None:
    """The dimension and sizes must be small positive whole numbers that agree, before a reader
    sees them: SimpleITK loops for minutes on a negative dimension."""
    try:
        count = int(dimension or "")
        values = [int(v) for v in (sizes or "").split()]
    except ValueError:
        raise CorruptFileError(f"{name}: the header's dimension or sizes are not whole numbers") \
            from None
    if not 1 <= count <= 16 or len(values) != count or min(values) < 1:
        raise CorruptFileError(f"{name}: the header's dimension and sizes do not describe an image")


def _nrrd_encoding(fields: dict[str, str]) -> str:
    encoding = fields.get("encoding", "raw").lower()
    return {"gz": "gzip", "bz2": "bzip2", "txt": "ascii", "text": "ascii"}.get(encoding, encoding)


def _metaimage(head: bytes, name: str) -> ItkHeader:
    fields: dict[str, str] = {}
    lines = _lines(head, name)
    for index, (line, after) in enumerate(lines):
        key, sep, value = line.partition("=")
        if not sep:
            if line.strip():
                raise UnsupportedFormatError(f"{name}: not a MetaImage or NRRD header")
            continue
        fields[key.strip().lower()] = value.strip()
        if key.strip() == "ElementDataFile":
            _check_shape_fields(fields.get("ndims"), fields.get("dimsize"), name)
            encoding = "zlib" if fields.get("compresseddata", "").lower() == "true" else "raw"
            target = value.strip()
            if target.upper() == "LOCAL":
                return ItkHeader("metaimage", (), after, encoding)
            if target.upper().startswith("LIST"):
                listed = [entry.strip() for entry, _ in lines[index + 1 :] if entry.strip()]
                return ItkHeader("metaimage", tuple(listed) or ("LIST",), after, encoding)
            return ItkHeader("metaimage", _pattern_files(target, name), after, encoding)
    raise UnsupportedFormatError(f"{name}: not a MetaImage header (no ElementDataFile)")


def _pattern_files(value: str, name: str) -> tuple[str, ...]:
    """``slice%03d.raw 1 10 1`` names ten files; anything else is one file name."""
    match = _PATTERN.match(value)
    if not match:
        return (value,)
    pattern, first, last, step = match.group(1), *(int(match.group(k)) for k in (2, 3, 4))
    if step == 0 or (last - first) // step + 1 > _MAX_LISTED_FILES:
        raise CorruptFileError(f"{name}: the header names too many data files")
    try:
        return tuple(pattern % n for n in range(first, last + (1 if step > 0 else -1), step))
    except (TypeError, ValueError) as e:
        raise CorruptFileError(f"{name}: the header's data file pattern is invalid") from e


def check_references(path: Path, header: ItkHeader, policy: Detached) -> list[Path]:
    """The files holding the voxels, each allowed by ``policy``; raises before any is opened.

    Under :attr:`Detached.REFUSE` the answer never depends on whether a named file exists.
    """
    if not header.data_files:
        return [path]
    if policy is Detached.REFUSE:
        raise UnsafeReferenceError(
            f"{path.name}: its voxels are in another file named by the header "
            f"({'NRRD data file' if header.kind == 'nrrd' else 'ElementDataFile'}); this server "
            "reads only the files you upload: send one .mha/.nrrd with the data inside, or a "
            "zip holding the header and its data file"
        )
    folder = path.parent
    return [_allowed(folder, entry, path.name, policy) for entry in header.data_files]


def _allowed(folder: Path, entry: str, name: str, policy: Detached) -> Path:
    if policy is Detached.ANYWHERE:
        return folder / entry
    relative = PurePosixPath(entry)
    if (
        not entry or "\\" in entry or "\x00" in entry or ":" in entry or relative.is_absolute()
        or ".." in relative.parts or entry.upper().startswith("LIST")
    ):
        raise UnsafeReferenceError(
            f"{name}: its data file is not named relative to the header's folder (an absolute "
            "path, a drive, '..' or a list); put the data file beside the header"
        )
    try:
        return _inside(folder, relative, name, entry)
    except OSError as e:  # a name too long or otherwise impossible on this system
        raise CorruptFileError(f"{name}: its data file name is not a usable file name") from e


def _inside(folder: Path, relative: PurePosixPath, name: str, entry: str) -> Path:
    candidate = folder.joinpath(*relative.parts)
    walked = folder
    for part in relative.parts:
        walked = walked / part
        if walked.is_symlink():
            raise UnsafeReferenceError(f"{name}: its data file is a symbolic link")
    if not os.path.realpath(candidate).startswith(os.path.realpath(folder) + os.sep):
        raise UnsafeReferenceError(f"{name}: its data file lies outside the header's folder")
    if not candidate.is_file():
        raise CorruptFileError(f"{name}: its data file {entry[:100]!r} is missing")
    return candidate
