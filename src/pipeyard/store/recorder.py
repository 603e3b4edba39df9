"""The recorder contract: what the engine reads and writes about one run while it
executes it. ``Store.recorder()`` implements it over SQL; tests use an in-memory one.
``WriteBehind`` wraps one to batch the rows a task writes on its way to a result."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from pipeyard.entities import Artifact, ArtifactEvent, Run, Task, TaskAttempt
from pipeyard.errors import is_disk_full


class RunRecorder(Protocol):
    """What the engine reads and writes about one run while executing it."""

    def get_run(self, run_id: str) -> Run: ...

    def update_run(self, run_id: str, **fields: Any) -> Run:
        """Set any of Run's fields (state, error, outputs, started_at, finished_at...)."""
        ...

    def list_tasks(self, run_id: str) -> list[Task]: ...

    def put_task(self, task: Task) -> None:
        """Insert or replace the task with this ``task_id``."""
        ...

    def record_task_result(
        self, task: Task, artifacts: Sequence[Artifact], events: Sequence[ArtifactEvent]
    ) -> None:
        """Store a finished task with the artifacts it produced and its lineage
        events, in one transaction."""
        ...

    def put_attempt(self, attempt: TaskAttempt) -> None:
        """Insert or replace the attempt (task_id, attempt)."""
        ...

    def find_cached_task(self, fingerprint: str) -> Task | None:
        """The newest SUCCEEDED task, in any run, whose fingerprint matches."""
        ...


@runtime_checkable
class RowBatches(Protocol):
    """A recorder that can write many rows in one transaction (``TaskStore.write_rows``)."""

    def write_rows(
        self,
        batch: Sequence[Task],
        attempts: Sequence[TaskAttempt] = (),
        artifacts: Sequence[Artifact] = (),
        events: Sequence[ArtifactEvent] = (),
    ) -> None: ...


class WriteBehind:
    """A ``RunRecorder`` that holds back a run's intermediate task and attempt rows.

    A task changes state several times on its way to SUCCEEDED (created, RUNNING,
    its command, its attempt RUNNING, the attempt's end), and each was a transaction of
    its own: a large part of what a trivial task cost. Here those rows wait, the
    newest per task and per attempt, and are written together after ``delay`` seconds,
    or before anything else reaches the store. What durability needs is not held
    back: a task's result (``record_task_result``, with its artifacts) and every change
    of the run are written at once, after what was waiting, so that the store never
    sees an older row replace a newer one. A process killed meanwhile loses only rows
    of tasks that had not finished, which a resumed run runs again anyway.

    When the inner recorder writes batches (``RowBatches``), what waited goes in one
    transaction, and a result in the same transaction as the rows that waited before it:
    on this machine's disk a commit costs more than the rows in it.

    ``on_written`` is told of held task rows once they are written, and the engine
    announces them again then: a page that opened its event stream just after a change
    was first announced reads the store for it, and may read it before the row is there;
    the second announcement reaches it (else it would never learn of the change).
    """

    def __init__(self, inner: RunRecorder, delay: float = 0.2,
                 on_written: Callable[[Sequence[Task]], None] | None = None) -> None:
        self.inner = inner
        self.delay = delay
        self.on_written = on_written
        self._batches = inner if isinstance(inner, RowBatches) else None
        self._tasks: dict[str, Task] = {}
        self._attempts: dict[tuple[str, int], TaskAttempt] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._failure: BaseException | None = None

    # ------------------------------------------------------------------ held back

    def put_task(self, task: Task) -> None:
        self._tasks[task.task_id] = task
        self._schedule()

    def put_attempt(self, attempt: TaskAttempt) -> None:
        self._attempts[(attempt.task_id, attempt.attempt)] = attempt
        self._schedule()

    # ------------------------------------------------------------------ written at once

    def record_task_result(
        self, task: Task, artifacts: Sequence[Artifact], events: Sequence[ArtifactEvent]
    ) -> None:
        # The result replaces whatever row of this task was waiting; its parent's row is
        # written first. Its attempts wait on: the RUNNING one is about to be replaced.
        self._tasks.pop(task.task_id, None)
        if self._batches is not None:
            self._raise_failure()
            waiting, self._tasks = list(self._tasks.values()), {}
            self._batches.write_rows([*waiting, task], (), artifacts, events)
            self._written(waiting)
            return
        self._flush_tasks()
        self.inner.record_task_result(task, artifacts, events)

    def update_run(self, run_id: str, **fields: Any) -> Run:
        self.flush()
        return self.inner.update_run(run_id, **fields)

    def get_run(self, run_id: str) -> Run:
        self.flush()
        return self.inner.get_run(run_id)

    def list_tasks(self, run_id: str) -> list[Task]:
        self.flush()
        return self.inner.list_tasks(run_id)

    def find_cached_task(self, fingerprint: str) -> Task | None:
        return self.inner.find_cached_task(fingerprint)  # SUCCEEDED rows are never held back

    def flush(self) -> None:
        """Write what waits (tasks first: an attempt needs its task's row). A failure of
        an earlier background flush is raised here, to the engine, as a write's would be."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._batches is not None:
            self._raise_failure()
            waiting, self._tasks = list(self._tasks.values()), {}
            attempts, self._attempts = list(self._attempts.values()), {}
            if waiting or attempts:
                try:
                    self._batches.write_rows(waiting, attempts)
                except BaseException:
                    self._hold_again(waiting, attempts)
                    raise
                self._written(waiting)
            return
        self._flush_tasks()
        while self._attempts:
            key = next(iter(self._attempts))
            self.inner.put_attempt(self._attempts.pop(key))

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _flush_tasks(self) -> None:
        self._raise_failure()
        # In the order they were first put: a parent's row before its children's.
        while self._tasks:
            key = next(iter(self._tasks))
            task = self._tasks.pop(key)
            try:
                self.inner.put_task(task)
            except BaseException:
                self._hold_again([task], ())
                raise
            self._written([task])

    def _hold_again(self, tasks: Sequence[Task], attempts: Sequence[TaskAttempt]) -> None:
        """Put rows whose write failed back in front of what waits, unless newer ones came."""
        self._tasks = {t.task_id: t for t in tasks} | self._tasks
        self._attempts = {(a.task_id, a.attempt): a for a in attempts} | self._attempts

    def _written(self, tasks: Sequence[Task]) -> None:
        if self.on_written is not None and tasks:
            self.on_written(tasks)

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no loop to defer to: write through
            return
        self._timer = loop.call_later(self.delay, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - kept for the engine's next write (see flush)
            if is_disk_full(exc):
                # A task is filling the disk. Its rows wait on: the engine's next write
                # comes after the failed task's partial outputs are removed, and the
                # run ends with the task's own reason instead of the store's.
                return
            self._failure = exc

    def close(self) -> None:
        """Stop writing for this run. Called when its execution ends: every ending writes
        the run's row, which flushed what waited, so what is left here belongs to a run
        this process gave up (another worker may own it now) and is dropped."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._tasks.clear()
        self._attempts.clear()
