"""Events the engine emits while a run executes (for the CLI's live view, the
server's SSE stream and tests). Delivered synchronously to an ``EventSink``;
sinks must be quick and must not raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeyard.entities import Run, Task


@dataclass(frozen=True)
class RunChanged:
    run: Run


@dataclass(frozen=True)
class TaskChanged:
    task: Task


@dataclass(frozen=True)
class LogLine:
    run_id: str
    task_id: str
    attempt: int
    line: str


Event = RunChanged | TaskChanged | LogLine
EventSink = Callable[[Event], None]


def discard(_event: Event) -> None:
    """The sink used when nobody listens."""


def wants_log_lines(sink: EventSink) -> bool:
    """Whether ``sink`` does anything with ``LogLine`` events. Each line a task prints is
    one when it does (split, decoded, an event object, a call), about 20 lines for even a
    trivial KFP Python task; without a listener the launcher only copies the output to the
    log file. A sink says it ignores them with a false ``log_lines`` attribute (the CLI's
    view without ``--verbose``); ``discard`` ignores everything."""
    return sink is not discard and getattr(sink, "log_lines", True) is not False
