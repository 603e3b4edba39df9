"""The recorder contract: what the engine reads and writes about one run while it
executes it. ``Store.recorder()`` implements it over SQL; tests use an in-memory one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pipeyard.entities import Artifact, ArtifactEvent, Run, Task, TaskAttempt


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
