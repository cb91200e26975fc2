"""The root of Iris's exception tree.

Every layer raises subclasses of :class:`IrisError`; the CLI prints ``str(error)`` and the API turns
it into a 4xx response, so messages name the problem and, where there is one, what to do about it.
"""


class IrisError(Exception):
    """Iris could not do what was asked."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or type(self).__name__).strip())
