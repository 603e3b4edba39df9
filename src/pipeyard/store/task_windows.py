"""A window onto a very large run's tasks, for the run page: every task outside loops,
a page of each loop's iterations (with what runs inside them), and per loop how its
iterations stand, without reading the other iterations' rows.

Inside an iteration, a task's ``iteration_index`` is that iteration's index (the
innermost loop's, in nested loops), so "the first ``size`` iterations of every loop" is
one SQL condition. A later page of one loop adds that loop's rows with indexes in
the page. The SQL condition sees only the innermost index; rows on no shown page (the
first page of the paged loop, nested iterations of hidden outer ones) are dropped by path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from pipeyard.entities import Task, TaskAttempt
from pipeyard.store.convert import to_entity
from pipeyard.store.db import StoreBase
from pipeyard.store.schema import task_attempts, tasks


@dataclass(frozen=True)
class IterationCounts:
    """A loop task's iterations by state: every iteration recorded so far."""

    loop_task_id: str
    total: int
    by_state: dict[str, int]


@dataclass(frozen=True)
class TaskWindow:
    tasks: list[Task]
    attempts: dict[str, list[TaskAttempt]]
    loops: list[IterationCounts]


def in_window(path: str, size: int, loop_path: str = "", offset: int = 0) -> bool:
    """Whether every loop index in ``path`` is on its loop's shown page: ``[offset,
    offset + size)`` for the loop at ``loop_path``, ``[0, size)`` for any other."""
    prefix = ""
    for segment in path.split("/"):
        name, bracket, rest = segment.partition("[")
        here = f"{prefix}/{name}" if prefix else name
        if bracket:
            digits = rest.rstrip("]")
            if digits.isdigit():
                first = offset if here == loop_path else 0
                if not first <= int(digits) < first + size:
                    return False
        prefix = f"{prefix}/{segment}" if prefix else segment
    return True


class TaskWindowStore(StoreBase):
    def task_window(self, run_id: str, size: int, loop_path: str = "", offset: int = 0) -> TaskWindow:
        """Tasks outside loops, iterations ``[0, size)`` of every loop and, when ``loop_path``
        names a loop, its iterations ``[offset, offset + size)`` instead of its first ones."""
        c = tasks.c
        shown = sa.or_(c.iteration_index.is_(None), c.iteration_index < size)
        if loop_path:
            page = sa.and_(
                c.path.startswith(f"{loop_path}[", autoescape=True),
                c.iteration_index >= offset,
                c.iteration_index < offset + size,
            )
            shown = sa.or_(shown, page)
        stmt = sa.select(tasks).where(c.run_id == run_id, shown).order_by(c.created_at, c.task_id)
        with self._read() as conn:
            # The SQL condition is the innermost index only: nested loops need the whole path.
            rows = [t for t in (to_entity(Task, r) for r in conn.execute(stmt).mappings())
                    if in_window(t.path, size, loop_path, offset)]
            attempts = self._attempts_of(conn, [t.task_id for t in rows])
            loops = self._iteration_counts(conn, run_id)
        return TaskWindow(rows, attempts, loops)

    def _attempts_of(self, conn: sa.Connection, task_ids: Sequence[str]) -> dict[str, list[TaskAttempt]]:
        result: dict[str, list[TaskAttempt]] = {}
        # Chunked: SQLite bounds the number of bound parameters of one statement.
        for start in range(0, len(task_ids), 500):
            chunk = task_ids[start:start + 500]
            stmt = (
                sa.select(task_attempts)
                .where(task_attempts.c.task_id.in_(chunk))
                .order_by(task_attempts.c.task_id, task_attempts.c.attempt)
            )
            for row in conn.execute(stmt).mappings():
                attempt = to_entity(TaskAttempt, row)
                result.setdefault(attempt.task_id, []).append(attempt)
        return result

    def _iteration_counts(self, conn: sa.Connection, run_id: str) -> list[IterationCounts]:
        c = tasks.c
        stmt = (
            sa.select(c.parent_task_id, c.state, sa.func.count())
            .where(c.run_id == run_id, c.kind == "ITERATION")
            .group_by(c.parent_task_id, c.state)
        )
        counts: dict[str, dict[str, int]] = {}
        for parent, state, n in conn.execute(stmt):
            if parent is not None:
                counts.setdefault(parent, {})[str(state)] = int(n)
        return [IterationCounts(loop, sum(states.values()), states) for loop, states in sorted(counts.items())]

