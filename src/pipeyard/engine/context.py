"""Everything one run's execution shares, and the bookkeeping of its task rows."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pipeyard.config import Settings
from pipeyard.engine.events import EventSink, RunChanged, TaskChanged
from pipeyard.engine.ports import Launcher, RunRecorder
from pipeyard.spec.views import PipelineView
from pipeyard.store.entities import Artifact, ArtifactEvent, Run, Task, TaskKind


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RunContext:
    run: Run
    pipeline: PipelineView
    recorder: RunRecorder
    launcher: Launcher
    settings: Settings
    on_event: EventSink
    pipeline_root: str
    # Rows already recorded for this run (a resume or a retry), by task path.
    existing: dict[str, Task] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def job_resource_name(self) -> str:
        """KFP's ``pipeline_job_resource_name``: on a cluster the Argo workflow's name."""
        return f"{self.pipeline.name}-{self.run_id}"

    @property
    def caching_allowed(self) -> bool:
        return self.run.enable_caching is not False

    # ------------------------------------------------------------------ run row

    def update_run(self, **fields: Any) -> Run:
        self.run = self.recorder.update_run(self.run_id, **fields)
        self.on_event(RunChanged(self.run))
        return self.run

    # ------------------------------------------------------------------ task rows

    def open_task(
        self,
        *,
        path: str,
        name: str,
        display_name: str,
        kind: TaskKind,
        parent_task_id: str | None,
        iteration_index: int | None = None,
        state: str = "RUNNING",
        **fields: Any,
    ) -> Task:
        """Create the row for a task at ``path``, reusing the id of a row left by an
        earlier execution of this run so that resumes and retries keep identities."""
        old = self.existing.get(path)
        now = utcnow()
        task = Task(
            task_id=old.task_id if old else uuid.uuid4().hex,
            run_id=self.run_id,
            path=path,
            name=name,
            display_name=display_name,
            kind=kind,
            state=state,  # type: ignore[arg-type]
            created_at=old.created_at if old else now,
            parent_task_id=parent_task_id,
            iteration_index=iteration_index,
            attempts=old.attempts if old else 0,
            started_at=now if state == "RUNNING" else None,
            **fields,
        )
        self.put_task(task)
        return task

    def put_task(self, task: Task) -> None:
        self.recorder.put_task(task)
        self.on_event(TaskChanged(task))

    def finish_task(self, task: Task, state: str, **fields: Any) -> Task:
        done = dataclasses.replace(task, state=state, finished_at=utcnow(), **fields)  # type: ignore[arg-type]
        self.put_task(done)
        return done

    def record_result(self, task: Task, artifacts: list[Artifact], events: list[ArtifactEvent]) -> None:
        self.recorder.record_task_result(task, artifacts, events)
        self.on_event(TaskChanged(task))
