"""One way to make a message safe to show to a user or to write to a log.

Error text comes from our code, from libraries (pydicom, SimpleITK, nibabel...) and from uploaded
files' names; before it reaches a person it passes through :func:`scrub`, which leaves one line of
printable text without the server's folders, without what the caller asks to hide (a file name
that may carry a patient's name), and of bounded length.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable

MESSAGE_LIMIT = 1000
HIDDEN = "[hidden]"

# Terminal escape sequences (colours, cursor moves, window titles): removed whole, so no
# stray "[31m" is left behind once the escape character itself is dropped.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?")
# An absolute path of two or more parts. Not one inside a URL ("s3://bucket/key"), a ratio
# ("2D/3D") or a relative path ("upload/ct.nii"): the character before it must not be part of one.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~/:\\-])(?:/[^\s/'\"`,;:()<>\[\]{}|]+){2,}")
_SPACES = re.compile(r"\s+")


def scrub(
    text: object,
    *,
    folders: Iterable[str | os.PathLike[str]] = (),
    hide: Iterable[str] = (),
    limit: int = MESSAGE_LIMIT,
    keep_paths: bool = False,
) -> str:
    """``str(text)`` made safe to show: paths under ``folders`` made relative to them, any other
    absolute path cut to its last part (unless ``keep_paths``: the command line shows users
    their own paths), each of ``hide`` (case-insensitively) replaced by ``[hidden]``, control
    characters and terminal escapes removed, whitespace folded to single spaces, and at most
    ``limit`` characters (an ellipsis marks a cut)."""
    message = str(text)
    for folder in folders:
        for spelling in {os.fspath(folder).rstrip("/"), os.path.realpath(folder).rstrip("/")}:
            if spelling:
                message = message.replace(f"{spelling}/", "")
    if not keep_paths:
        message = _ABSOLUTE_PATH.sub(lambda m: m.group().rsplit("/", 1)[-1], message)
    for secret in hide:
        if secret.strip():
            message = re.sub(re.escape(secret), HIDDEN, message, flags=re.IGNORECASE)
    message = _SPACES.sub(" ", _printable(_ESCAPES.sub("", message))).strip()
    if len(message) > limit:
        message = message[: max(limit - 1, 0)].rstrip() + "…"
    return message


def _printable(text: str) -> str:
    """Line breaks and tabs become spaces; other control, format (bidirectional overrides,
    zero-width characters) and unassigned code points are dropped."""
    return "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or not unicodedata.category(char).startswith("C")
    )
