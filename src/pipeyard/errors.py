"""The one exception tree of pipeyard.

Every error a user can cause is a ``PipeyardError`` subclass carrying the fields
that say what was wrong and where. The errors know nothing of HTTP: the server maps
them to status codes in one table (``server/errors.py``); the CLI to exit codes.
"""

from __future__ import annotations

import errno


class PipeyardError(Exception):
    """Root of all pipeyard errors."""


    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SpecError(PipeyardError):
    """A pipeline file or spec is invalid. ``where`` names the file/task/field."""


    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.reason = message


class InvalidArgument(PipeyardError):
    """A request or parameter value is wrong (unknown name, wrong type, missing)."""


    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class NotFound(PipeyardError):

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class AlreadyExists(PipeyardError):

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")
        self.kind = kind
        self.key = key


class FailedPrecondition(PipeyardError):
    """The object is not in a state that allows the operation (e.g. retry a running run)."""


class Forbidden(PipeyardError):
    """The request reaches for something outside what may be served (e.g. a path
    outside the pipeline root and the logs directory)."""


class PayloadTooLarge(PipeyardError):
    """An upload or request body beyond the server's limit."""


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC from a write, or SQLite's "database or disk is full", however wrapped
    (SQLAlchemy and asyncio chain the original as the cause or context)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if "disk is full" in str(seen) or "No space left" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
