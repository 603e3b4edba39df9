"""The one exception tree of pipeyard.

Every error a user can cause is a ``PipeyardError`` subclass carrying the fields
that say what was wrong and where. The server maps these to HTTP status codes in
one place (``server/errors.py``); the CLI maps them to exit codes.
"""

from __future__ import annotations


class PipeyardError(Exception):
    """Root of all pipeyard errors."""

    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SpecError(PipeyardError):
    """A pipeline file or spec is invalid. ``where`` names the file/task/field."""

    http_status = 400

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.reason = message


class InvalidArgument(PipeyardError):
    """A request or parameter value is wrong (unknown name, wrong type, missing)."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class NotFound(PipeyardError):
    http_status = 404

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class AlreadyExists(PipeyardError):
    http_status = 409

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")
        self.kind = kind
        self.key = key


class FailedPrecondition(PipeyardError):
    """The object is not in a state that allows the operation (e.g. retry a running run)."""

    http_status = 409


class Unauthenticated(PipeyardError):
    http_status = 401


class TaskFailed(PipeyardError):
    """A task ended without success; carries the task path and its log tail."""

    def __init__(self, task: str, message: str, *, log_tail: str = "") -> None:
        super().__init__(f"task {task!r} failed: {message}")
        self.task = task
        self.reason = message
        self.log_tail = log_tail


class LaunchError(PipeyardError):
    """The launcher could not start a task (bad command, environment creation failed)."""
