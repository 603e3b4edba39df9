"""The live terminal view of a run (rich), fed by engine events; off a terminal, plain
lines (and rich is not imported for them: see ``console.py``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pipeyard.engine.run_events import Event, LogLine, RunChanged, TaskChanged
from pipeyard.entities import Task

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.text import Text

    from pipeyard.cli.console import PlainConsole

STATE_STYLES = {
    "PENDING": "dim", "RUNNING": "bold blue", "SUCCEEDED": "green", "SKIPPED": "yellow",
    "FAILED": "bold red", "CANCELED": "magenta", "CANCELING": "magenta", "PAUSED": "bold yellow",
}
LEAF_KINDS = ("CONTAINER", "IMPORTER")
MAX_ROWS = 25


def display_state(task: Task) -> str:
    """The engine's ``display_state`` (PAUSED under a debug pause), imported when first
    needed: ``runs list`` shows no task and must not import the engine's run context."""
    from pipeyard.engine.debug_pause import display_state as shown

    return shown(task)


def duration(task: Task, now: datetime | None = None) -> str:
    if task.started_at is None:
        return ""
    end = task.finished_at or now
    if end is None:
        return ""
    seconds = max(0.0, (end - task.started_at).total_seconds())
    return f"{seconds:.2f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


@dataclass
class Progress:
    """Collects events; renders a table of leaf tasks and a done/total count."""

    console: Console | PlainConsole
    verbose: bool = False
    tasks: dict[str, Task] = field(default_factory=dict)
    run_state: str = "PENDING"
    started: float = field(default_factory=time.monotonic)
    live: Live | None = None
    # Task output for the live display, printed in batches: one console print per line
    # would make a chatty task wait for the terminal (the engine calls us in its loop).
    _pending: list[Text] = field(default_factory=list)
    _last_flush: float = field(default_factory=time.monotonic)

    @property
    def log_lines(self) -> bool:
        """Task output lines are shown, so wanted as events, only with --verbose."""
        return self.verbose

    def __call__(self, event: Event) -> None:
        if isinstance(event, TaskChanged):
            task = event.task
            previous = self.tasks.get(task.task_id)
            self.tasks[task.task_id] = task
            if self.live is None and task.kind in LEAF_KINDS and task.state != (
                previous.state if previous else None
            ) and not self.console.is_terminal:
                # Not a terminal, so no style would show: plain text, without rich's
                # rendering (about 1 ms a line, two lines a task, in the engine's loop).
                self.console.file.write(_plain_line(task) + "\n")
        elif isinstance(event, RunChanged):
            self.run_state = event.run.state
        elif isinstance(event, LogLine) and self.verbose:
            self._log_line(event)
        # The live display re-renders itself at its refresh rate (get_renderable).

    def _log_line(self, event: LogLine) -> None:
        task = self.tasks.get(event.task_id)
        name = task.path if task else event.task_id[:8]
        if self.live is None:
            # Not a terminal: plain buffered text, no markup, no wrapping.
            self.console.file.write(f"[{name}] {event.line}\n")
            return
        from rich.text import Text

        self._pending.append(Text(f"[{name}] ", style="cyan") + Text(event.line))
        now = time.monotonic()
        if len(self._pending) >= 500 or now - self._last_flush >= 0.1:
            self.flush_logs()

    def flush_logs(self) -> None:
        self._last_flush = time.monotonic()
        if self._pending:
            from rich.text import Text

            lines, self._pending = self._pending, []
            self.console.print(Text("\n").join(lines))

    def counts(self) -> tuple[int, int]:
        leaves = [t for t in self.tasks.values() if t.kind in LEAF_KINDS]
        done = sum(1 for t in leaves if t.state in ("SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"))
        return done, len(leaves)

    def render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        now = datetime.now().astimezone()
        leaves = [t for t in self.tasks.values() if t.kind in LEAF_KINDS]
        running = [t for t in leaves if t.state == "RUNNING"]
        others = [t for t in leaves if t.state != "RUNNING"]
        shown = (running + others[-max(0, MAX_ROWS - len(running)):])[:MAX_ROWS]
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        table.add_column("task")
        table.add_column("state")
        table.add_column("attempt", justify="right")
        table.add_column("time", justify="right")
        for t in sorted(shown, key=lambda t: t.created_at):
            label = display_state(t)
            state = Text(label + (" (cached)" if t.cached else ""), style=STATE_STYLES.get(label, ""))
            table.add_row(t.path, state, str(t.attempts or ""), duration(t, now))
        done, total = self.counts()
        elapsed = time.monotonic() - self.started
        footer = Text(f"{done}/{total} tasks done · run {self.run_state} · {elapsed:.1f}s", style="bold")
        if len(leaves) > len(shown):
            footer.append(f" · {len(leaves) - len(shown)} more not shown", style="dim")
        return Group(table, footer)


def _plain_line(task: Task) -> str:
    shown = display_state(task)
    line = f"{shown:<10} {task.path}"
    if task.attempts > 1:
        line += f" (attempt {task.attempts})"
    if task.cached:
        line += " (cached)"
    d = duration(task)
    if d and task.finished_at:
        line += f" {d}"
    return line
