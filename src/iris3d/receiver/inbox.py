"""The staging inbox: instances sent by a PACS, one folder per account and study.

``<root>/<owner>/<study>/<series>/<instance>.dcm``, each name a hash of its UID, so an instance
sent twice is one file (duplicates are dropped by SOP Instance UID before ingest sees them) and no
UID becomes a path. ``<study>/.arrived`` is touched on every new instance: its age is the study's
quiet time. A quiet study is claimed by renaming its folder under ``<root>/.claimed``: a rename
is atomic, so of several processes sharing the inbox exactly one processes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from iris3d.errors import IrisError

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_ARRIVED = ".arrived"
_CLAIMED = ".claimed"
_INCOMING = ".incoming"


class InboxFullError(IrisError):
    """The inbox holds as much as this account or study may send; nothing more is kept."""


class BadInstanceError(IrisError):
    """The instance lacks a valid Study, Series or SOP Instance UID."""


class Stored(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"  # an instance with this SOP Instance UID is already here


@dataclass(frozen=True)
class InstanceIds:
    study_uid: str
    series_uid: str
    sop_uid: str

    def check(self) -> None:
        for uid in (self.study_uid, self.series_uid, self.sop_uid):
            if not (0 < len(uid) <= 64 and _UID.match(uid)):
                raise BadInstanceError()


@dataclass(frozen=True)
class ClaimedStudy:
    """A quiet study taken out of the inbox; its folder is the caller's to read and remove."""

    owner_id: str
    folder: Path
    instances: int
    size: int


def _key(uid: str) -> str:
    return hashlib.sha256(uid.encode()).hexdigest()[:32]


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.dcm") if p.is_file())


class Inbox:
    def __init__(
        self, root: Path, *, max_study_bytes: int, max_owner_bytes: int,
        max_study_instances: int = 100_000,
    ) -> None:
        self.root = root
        self.max_study_bytes = max_study_bytes
        self.max_owner_bytes = max_owner_bytes
        self.max_study_instances = max_study_instances
        for folder in (root, root / _CLAIMED, root / _INCOMING):
            folder.mkdir(parents=True, exist_ok=True)

    def incoming_file(self) -> Path:
        """A fresh name for an instance being received (then handed to :meth:`accept`)."""
        return self.root / _INCOMING / secrets.token_hex(16)

    def accept(self, owner_id: str, ids: InstanceIds, received: Path) -> Stored:
        """Keep the received file as this instance, or drop it as a duplicate; the file is
        moved or deleted either way."""
        try:
            ids.check()
            study = self.root / owner_id / _key(ids.study_uid)
            target = study / _key(ids.series_uid) / f"{_key(ids.sop_uid)}.dcm"
            if target.exists():
                return Stored.DUPLICATE
            self._check_room(owner_id, study, received.stat().st_size)
            # A claim may take the study folder between mkdir and rename: then start it anew.
            for _ in range(3):
                target.parent.mkdir(parents=True, exist_ok=True)
                (study / _ARRIVED).touch()
                try:
                    received.replace(target)
                    return Stored.NEW
                except FileNotFoundError:
                    continue
            raise InboxFullError("the study kept being claimed while it was received")
        finally:
            received.unlink(missing_ok=True)

    def _check_room(self, owner_id: str, study: Path, size: int) -> None:
        owner = self.root / owner_id
        if owner.exists() and _bytes_under(owner) + size > self.max_owner_bytes:
            raise InboxFullError(
                f"this account's received studies waiting for processing would pass "
                f"{self.max_owner_bytes / 2**20:,.0f} MiB (IRIS_QUOTA_UPLOAD_BYTES)"
            )
        if not study.exists():
            return
        if _bytes_under(study) + size > self.max_study_bytes:
            raise InboxFullError(
                f"the study would pass {self.max_study_bytes / 2**20:,.0f} MiB "
                "(IRIS_MAX_UPLOAD_BYTES)"
            )
        if sum(1 for _ in study.rglob("*.dcm")) >= self.max_study_instances:
            raise InboxFullError(
                f"the study would pass {self.max_study_instances} instances "
                "(IRIS_MAX_ARCHIVE_MEMBERS)"
            )

    def claim_quiet(self, quiet_s: float) -> Iterator[ClaimedStudy]:
        """Take, one at a time as the caller asks for the next, each study that has had no new
        instance for ``quiet_s`` seconds (so a crash loses at most the study in hand)."""
        now = time.time()
        for owner in self._children(self.root):
            for study in self._children(owner):
                arrived = study / _ARRIVED
                try:
                    if now - arrived.stat().st_mtime < quiet_s:
                        continue
                except FileNotFoundError:
                    continue
                taken = self.root / _CLAIMED / f"{owner.name}-{study.name}-{secrets.token_hex(4)}"
                try:
                    study.rename(taken)
                except FileNotFoundError:
                    continue  # another process claimed it first
                files = [p for p in taken.rglob("*.dcm") if p.is_file()]
                size = sum(p.stat().st_size for p in files)
                yield ClaimedStudy(owner.name, taken, len(files), size)

    def sweep_incoming(self, older_than_s: float) -> None:
        """Remove files of receptions that never finished (a dropped connection)."""
        cutoff = time.time() - older_than_s
        for path in (self.root / _INCOMING).iterdir():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        for owner in self._children(self.root):
            with contextlib.suppress(OSError):  # not empty: a study is arriving
                owner.rmdir()

    @staticmethod
    def _children(folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
