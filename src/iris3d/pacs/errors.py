"""What can go wrong talking to a PACS, as plain messages (the docstrings are the defaults).

A PACS's own error text and addresses with credentials never reach these messages."""

from __future__ import annotations

from iris3d.errors import IrisError


class PacsError(IrisError):
    """The PACS could not do what was asked."""


class PacsUnavailableError(PacsError):
    """The PACS did not answer: it may be down, or its address is wrong."""


class PacsTimeoutError(PacsUnavailableError):
    """The PACS did not answer in time: it may be down or busy."""


class PacsAuthError(PacsError):
    """The PACS refused Iris's credentials: check the user name, password or token."""


class PacsNotFoundError(PacsError):
    """The PACS has no such study or series."""


class PacsSourceGoneError(PacsError):
    """The PACS no longer has the series these results were made from: nothing was sent."""


class PacsRefusedError(PacsError):
    """The PACS answered with an error."""


class PacsTooLargeError(PacsError):
    """The series is larger than this server accepts (IRIS_MAX_UPLOAD_BYTES)."""
