"""WriteBehind: a task's intermediate rows wait and are batched; results and run changes
are written at once, after what waited, in order."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pytest

from pipeyard.entities import Artifact, ArtifactEvent, Run, Task, TaskAttempt
from pipeyard.store.recorder import WriteBehind

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Recording:
    """A recorder that writes nothing, only lists the calls it got."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.wrote = asyncio.Event()
        self.fail_puts: BaseException | None = None
        self.failed = 0

    def get_run(self, run_id: str) -> Run:
        raise NotImplementedError

    def update_run(self, run_id: str, **fields: Any) -> Run:
        self.calls.append(("update_run", str(fields.get("state"))))
        return None  # type: ignore[return-value]

    def list_tasks(self, run_id: str) -> list[Task]:
        self.calls.append(("list_tasks", run_id))
        return []

    def put_task(self, task: Task) -> None:
        if self.fail_puts is not None:
            self.failed += 1
            raise self.fail_puts
        self.calls.append(("put_task", f"{task.task_id}:{task.state}"))
        self.wrote.set()

    def record_task_result(self, task: Task, artifacts: Sequence[Artifact], events: Sequence[ArtifactEvent]) -> None:
        self.calls.append(("record_task_result", f"{task.task_id}:{task.state}"))

    def put_attempt(self, attempt: TaskAttempt) -> None:
        self.calls.append(("put_attempt", f"{attempt.task_id}/{attempt.attempt}:{attempt.state}"))

    def find_cached_task(self, fingerprint: str) -> Task | None:
        return None


def _task(task_id: str, state: str = "RUNNING") -> Task:
    return Task(task_id=task_id, run_id="r", path=task_id, name=task_id, display_name=task_id,
                kind="CONTAINER", state=state, created_at=NOW)  # type: ignore[arg-type]


def _attempt(task_id: str, state: str) -> TaskAttempt:
    return TaskAttempt(task_id, 1, state, NOW, "/log")  # type: ignore[arg-type]


def test_intermediate_rows_wait_and_a_result_replaces_its_tasks_row() -> None:
    async def scenario() -> None:
        inner = Recording()
        behind = WriteBehind(inner, delay=3600)
        parent, child = _task("dag"), _task("t1")
        behind.put_task(parent)
        behind.put_task(child)
        behind.put_task(dataclasses.replace(child, error=None))  # the newest row per task waits
        behind.put_attempt(_attempt("t1", "RUNNING"))
        assert inner.calls == []
        behind.record_task_result(_task("t1", "SUCCEEDED"), [], [])
        # Written at once, after the parent's row; the child's own waiting row was superseded.
        assert inner.calls == [("put_task", "dag:RUNNING"), ("record_task_result", "t1:SUCCEEDED")]
        behind.put_attempt(_attempt("t1", "SUCCEEDED"))
        behind.update_run("r", state="SUCCEEDED")
        assert inner.calls[2:] == [("put_attempt", "t1/1:SUCCEEDED"), ("update_run", "SUCCEEDED")]

    asyncio.run(scenario())


def test_reads_see_what_waited() -> None:
    async def scenario() -> list[tuple[str, str]]:
        inner = Recording()
        behind = WriteBehind(inner, delay=3600)
        behind.put_task(_task("a"))
        behind.list_tasks("r")
        return inner.calls

    assert asyncio.run(scenario()) == [("put_task", "a:RUNNING"), ("list_tasks", "r")]


def test_waiting_rows_are_written_soon_without_another_write() -> None:
    async def scenario() -> list[tuple[str, str]]:
        inner = Recording()
        behind = WriteBehind(inner, delay=0.01)
        behind.put_task(_task("a"))
        await asyncio.wait_for(inner.wrote.wait(), 60)
        return inner.calls

    assert asyncio.run(scenario()) == [("put_task", "a:RUNNING")]


def test_a_background_failure_reaches_the_engine_at_its_next_write() -> None:
    async def scenario() -> None:
        inner = Recording()
        inner.fail_puts = OSError(5, "Input/output error")
        behind = WriteBehind(inner, delay=0.0)
        behind.put_task(_task("a"))
        while behind._failure is None:  # noqa: SLF001 - the background flush has run
            await asyncio.sleep(0)
        inner.fail_puts = None
        with pytest.raises(OSError, match="Input/output"):
            behind.update_run("r", state="FAILED")
        behind.update_run("r", state="FAILED")
        # The row whose write failed is written again before the run's change.
        assert inner.calls == [("put_task", "a:RUNNING"), ("update_run", "FAILED")]

    asyncio.run(scenario())


def test_a_full_disk_in_the_background_keeps_the_rows_for_the_next_write() -> None:
    """A task filling the disk makes the timer's flush fail; that is no engine failure:
    the rows wait, and the engine's next write (after the task's partial outputs are
    removed) writes them first."""

    async def scenario() -> None:
        inner = Recording()
        inner.fail_puts = OSError(28, "No space left on device")
        behind = WriteBehind(inner, delay=0.0)
        behind.put_task(_task("a"))
        behind.put_task(_task("b"))
        while inner.failed < 1:
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert behind._failure is None  # noqa: SLF001
        inner.fail_puts = None
        behind.put_task(_task("b", "FAILED"))
        behind.update_run("r", state="FAILED")
        assert inner.calls == [("put_task", "a:RUNNING"), ("put_task", "b:FAILED"), ("update_run", "FAILED")]

    asyncio.run(scenario())


def test_close_drops_what_a_given_up_run_left() -> None:
    async def scenario() -> list[tuple[str, str]]:
        inner = Recording()
        behind = WriteBehind(inner, delay=3600)
        behind.put_task(_task("a"))
        behind.close()
        behind.flush()  # nothing is left to write, by a timer or otherwise
        return inner.calls

    assert asyncio.run(scenario()) == []


def test_without_a_loop_rows_are_written_through() -> None:
    inner = Recording()
    WriteBehind(inner).put_task(_task("a"))
    assert inner.calls == [("put_task", "a:RUNNING")]


def test_a_held_row_is_announced_once_written() -> None:
    """A page that opens its event stream after a change was first announced reads the
    store for it; the announcement after the write reaches it if that read came too early
    (see WriteBehind's on_written)."""

    async def scenario() -> list[tuple[str, str]]:
        inner = Recording()
        behind = WriteBehind(inner, delay=3600, on_written=lambda tasks: inner.calls.extend(
            ("announced", f"{t.task_id}:{t.state}") for t in tasks))
        behind.put_task(_task("a"))
        behind.put_task(_task("b"))
        behind.put_task(_task("a", "FAILED"))  # replaces the held RUNNING row of a
        assert inner.calls == []  # nothing written yet, so nothing announced
        behind.flush()
        return inner.calls

    assert asyncio.run(scenario()) == [("put_task", "a:FAILED"), ("announced", "a:FAILED"),
                                       ("put_task", "b:RUNNING"), ("announced", "b:RUNNING")]
