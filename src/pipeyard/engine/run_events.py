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
