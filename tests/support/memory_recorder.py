"""An in-memory ``RunRecorder`` (store/recorder.py's contract): what the engine
writes about a run, kept in dicts so that unit tests read it back directly."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from pipeyard.entities import Artifact, ArtifactEvent, Run, Task, TaskAttempt
from pipeyard.errors import NotFound


class MemoryRecorder:
    """Every write is kept in insertion order; ``find_cached_task`` follows the SQL
    store's rule (the newest SUCCEEDED task with the fingerprint, in any run)."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.tasks: dict[str, Task] = {}
        self.attempts: dict[tuple[str, int], TaskAttempt] = {}
        self.artifacts: list[Artifact] = []
        self.events: list[ArtifactEvent] = []
        # Every state a run went through, for assertions on the order of changes.
        self.run_states: list[str] = []

    def add_run(self, run: Run) -> Run:
        self.runs[run.run_id] = run
        self.run_states.append(run.state)
        return run

    # ------------------------------------------------------------------ RunRecorder

    def get_run(self, run_id: str) -> Run:
        try:
            return self.runs[run_id]
        except KeyError:
            raise NotFound("run", run_id) from None

    def update_run(self, run_id: str, **fields: Any) -> Run:
        run = dataclasses.replace(self.get_run(run_id), **fields)
        self.runs[run_id] = run
        if "state" in fields:
            self.run_states.append(run.state)
        return run

    def list_tasks(self, run_id: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.run_id == run_id]

    def put_task(self, task: Task) -> None:
        self.tasks[task.task_id] = task

    def record_task_result(
        self, task: Task, artifacts: Sequence[Artifact], events: Sequence[ArtifactEvent]
    ) -> None:
        self.tasks[task.task_id] = task
        self.artifacts.extend(artifacts)
        self.events.extend(events)

    def put_attempt(self, attempt: TaskAttempt) -> None:
        self.attempts[(attempt.task_id, attempt.attempt)] = attempt

    def find_cached_task(self, fingerprint: str) -> Task | None:
        hits = [t for t in self.tasks.values() if t.fingerprint == fingerprint and t.state == "SUCCEEDED"]
        return max(hits, key=lambda t: (t.created_at, t.task_id), default=None)

    # ------------------------------------------------------------------ reading back

    def task_at(self, run_id: str, path: str) -> Task:
        found = [t for t in self.list_tasks(run_id) if t.path == path]
        assert found, f"no task at {path!r}; paths: {sorted(t.path for t in self.list_tasks(run_id))}"
        return found[0]

    def attempts_of(self, task_id: str) -> list[TaskAttempt]:
        return sorted((a for (tid, _), a in self.attempts.items() if tid == task_id), key=lambda a: a.attempt)
