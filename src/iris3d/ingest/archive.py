"""A DICOM study as a folder on disk: the folder itself, or a ``.zip`` safely unpacked.

A zip is untrusted input. Member names that are absolute or climb with ``..`` are refused before
anything is written; symbolic links are skipped (never created, never followed); the member count
and the unpacked size are checked against the settings twice, once from the central directory and
again while the bytes stream out, so a header that understates a member's size cannot get past the
limit. Everything is unpacked into a fresh temporary folder that is removed on exit, error or not.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from iris3d.ingest.detect import StudyFormat
from iris3d.ingest.errors import CorruptFileError, UnsafeArchiveError, UnsupportedFormatError
from iris3d.ingest.limits import ReadLimits

_CHUNK = 1 << 20
MAX_EXPANSION = 100
_EXPANSION_FLOOR = 256 * 2**20


@contextmanager
def unpacked_study(path: Path, fmt: StudyFormat, limits: ReadLimits) -> Iterator[Path]:
    """Yield a folder holding the study's files; a zip's temporary folder is removed on exit."""
    if fmt is StudyFormat.DICOM_FOLDER:
        yield path
        return
    if fmt is not StudyFormat.ZIP:
        raise UnsupportedFormatError(f"{path.name}: not a DICOM folder or a .zip of one")
    with tempfile.TemporaryDirectory(prefix="iris-unzip-", ignore_cleanup_errors=True) as tmp:
        target = Path(tmp)
        extract_zip(path, target, limits)
        yield target


def extract_zip(path: Path, target: Path, limits: ReadLimits) -> int:
    """Unpack ``path`` into the existing folder ``target``; return the number of files written."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise CorruptFileError(f"{path.name}: not a valid zip archive") from e
    except (OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as e:
        raise CorruptFileError(f"{path.name}: the zip archive could not be read") from e
    with archive:
        members = archive.infolist()
        _check_declared_size(path, members, limits)
        budget = _Budget(path.name, limits.max_unpacked_bytes, path.stat().st_size)
        written = 0
        for info in members:
            relative = _safe_relative_path(path.name, info.filename)
            if relative is None or info.is_dir() or _is_symlink(info):
                continue
            destination = target.joinpath(*relative.parts)
            # Belt and braces: the name check above should make this impossible.
            if not destination.resolve().is_relative_to(target.resolve()):
                raise UnsafeArchiveError(f"{path.name}: entry {info.filename!r} leaves the archive")
            _copy_member(archive, info, destination, budget)
            written += 1
    return written


def _check_declared_size(path: Path, members: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    if len(members) > limits.max_archive_members:
        raise UnsafeArchiveError(
            f"{path.name}: {len(members):,} entries, more than the limit of "
            f"{limits.max_archive_members:,} (IRIS_MAX_ARCHIVE_MEMBERS)"
        )
    declared = sum(info.file_size for info in members)
    if declared > limits.max_unpacked_bytes:
        raise UnsafeArchiveError(
            f"{path.name}: unpacks to {declared:,} bytes, more than the limit of "
            f"{limits.max_unpacked_bytes:,} (IRIS_MAX_UNPACKED_BYTES)"
        )


def _safe_relative_path(archive_name: str, name: str) -> PurePosixPath | None:
    """The member's path inside the archive, refusing any that could land outside it."""
    normalised = name.replace("\\", "/")
    parts = normalised.split("/")
    if normalised.startswith("/") or (parts and len(parts[0]) >= 2 and parts[0][1] == ":"):
        raise UnsafeArchiveError(f"{archive_name}: entry {name!r} has an absolute path")
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive_name}: entry {name!r} climbs out of the archive (..)")
    kept = [p for p in parts if p not in ("", ".")]
    if not kept:
        return None
    if any("\x00" in p for p in kept):
        raise UnsafeArchiveError(f"{archive_name}: entry {name!r} has a NUL in its name")
    return PurePosixPath(*kept)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


class _Budget:
    """Bytes unpacked so far against the limit: counted as written, not as headers claim."""

    def __init__(self, archive_name: str, limit: int, archive_bytes: int) -> None:
        self.archive_name = archive_name
        self.limit = limit
        # DICOM deflates a few-fold; far more, to a large size, is a zip bomb of zeros
        self.expansion_limit = max(_EXPANSION_FLOOR, MAX_EXPANSION * archive_bytes)
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.expansion_limit and self.used <= self.limit:
            raise UnsafeArchiveError(
                f"{self.archive_name}: unpacks to more than {MAX_EXPANSION} times its size: "
                "refused as a zip bomb"
            )
        if self.used > self.limit:
            raise UnsafeArchiveError(
                f"{self.archive_name}: unpacks to more than the limit of {self.limit:,} bytes "
                "(IRIS_MAX_UNPACKED_BYTES)"
            )


def _copy_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, budget: _Budget
) -> None:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        out_file = destination.open("xb")
    except OSError as e:
        raise UnsafeArchiveError(
            f"{budget.archive_name}: entry {info.filename!r} cannot be unpacked: it clashes "
            f"with another entry or its name is invalid ({e.strerror})"
        ) from e
    try:
        with out_file as out, archive.open(info) as source:
            member_bytes = 0
            while chunk := source.read(_CHUNK):
                member_bytes += len(chunk)
                if member_bytes > info.file_size:
                    raise UnsafeArchiveError(
                        f"{budget.archive_name}: entry {info.filename!r} unpacks to more than "
                        f"the {info.file_size:,} bytes its header declares"
                    )
                budget.take(len(chunk))
                out.write(chunk)
    except RuntimeError as e:  # zipfile's word for an encrypted member
        raise UnsupportedFormatError(
            f"{budget.archive_name}: entry {info.filename!r} is encrypted; unzip it first"
        ) from e
    except NotImplementedError as e:
        raise UnsupportedFormatError(
            f"{budget.archive_name}: entry {info.filename!r} uses a compression method Iris "
            "cannot unpack"
        ) from e
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
        raise CorruptFileError(f"{budget.archive_name}: entry {info.filename!r} is corrupt") from e
