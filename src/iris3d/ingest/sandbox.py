"""Run a reader on untrusted files in a child process with address-space and CPU-time limits.

A parser bug, a decompression bomb or a header that makes a library loop then costs the child,
which the kernel stops, and the caller gets a typed :class:`~iris3d.errors.IrisError`: the
process serving other users never allocates for the file. Children are forked from a
``forkserver`` that has already imported the readers, so each costs a fork, not a Python start.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from iris3d.errors import IrisError
from iris3d.ingest.errors import CorruptFileError, IngestError
from iris3d.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
# Each child also re-runs the parent's main script (multiprocessing's rule; Python 3.11 cannot
# preload it): for ``iris serve`` that is the light ``iris`` entry point, whose commands import
# their modules lazily.
_PRELOAD = ["numpy", "nibabel", "SimpleITK", "pydicom", "iris3d.ingest.nifti",
            "iris3d.ingest.itk", "iris3d.ingest.dicom", "iris3d.ingest.inspection",
            "iris3d.imageio.labels"]
_PAGE = os.sysconf("SC_PAGE_SIZE")


class ReaderLimitError(IngestError):
    """Reading the study needed more memory or time than this server allows for one study."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int  # address space the reader may add to what the child starts with
    cpu_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.ingest_memory_bytes, settings.ingest_cpu_seconds)


def run_limited(function: Callable[..., T], *args: Any, limits: Limits) -> T:
    """``function(*args)`` in a limited child; its IrisError is raised here with its message."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, limits, function, args), daemon=True)
    child.start()
    sender.close()
    try:
        # CPU time bounds the child; the wall clock only guards against a child stuck waiting.
        if not receiver.poll(limits.cpu_seconds * 4 + 30):
            child.kill()
            raise ReaderLimitError()
        kind, *payload = receiver.recv()
    except EOFError:  # the child died without answering: the kernel stopped it
        child.join()
        log.warning("limited reader ended with exit code %s", child.exitcode)
        raise ReaderLimitError() from None
    finally:
        receiver.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    if kind == "ok":
        return payload[0]  # type: ignore[no-any-return]
    raise rebuilt_error(*payload)


def _child(sender: Connection, limits: Limits, function: Callable[..., Any], args: Any) -> None:
    apply_limits(limits)
    try:
        answer: tuple[Any, ...] = ("ok", function(*args))
    except IrisError as e:
        answer = ("error", type(e).__module__, type(e).__qualname__, str(e))
    except MemoryError:
        answer = ("error", ReaderLimitError.__module__, ReaderLimitError.__qualname__, "")
    except BaseException:  # a reader's own bug: the detail goes to the log, not to the user
        log.exception("a reader failed on an uploaded file")
        answer = ("error", CorruptFileError.__module__, CorruptFileError.__qualname__,
                  "The file could not be read: it is damaged or not what its header says.")
    try:
        sender.send(answer)
    except MemoryError:
        os._exit(1)
    sender.close()


def apply_limits(limits: Limits) -> None:
    """Limit this process: address space beyond what it holds now, and CPU time."""
    virtual_now = int(Path("/proc/self/statm").read_text().split()[0]) * _PAGE
    memory = virtual_now + limits.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))


def rebuilt_error(module: str, name: str, message: str) -> IrisError:
    """The child's error as the same Iris class, when it is one; otherwise a plain IngestError."""
    if module.startswith("iris3d."):
        found = getattr(importlib.import_module(module), name, None)
        if isinstance(found, type) and issubclass(found, IrisError):
            try:
                return found(message or None)
            except TypeError:
                pass
    return IngestError(message or None)
