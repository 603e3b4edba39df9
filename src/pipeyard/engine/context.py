"""Everything one run's execution shares, and the bookkeeping of its task rows."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pipeyard.config import Settings
from pipeyard.engine.run_events import EventSink, RunChanged, TaskChanged
from pipeyard.engine.sweeper import Sweeper
from pipeyard.entities import Artifact, ArtifactEvent, Run, RuntimeState, Task, TaskKind
from pipeyard.ir.views import PipelineView
from pipeyard.launchers.base import Launcher
from pipeyard.store.recorder import RunRecorder


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


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
    # Injected so that tests of time-dependent policies (retry back-off, timestamps)
    # control time for this run only, without patching the process's asyncio.
    clock: Clock = utcnow
    sleep: Sleep = asyncio.sleep
    # Succeeded attempts' work folders, removed in the background (the run waits for it).
    sweeper: Sweeper = field(default_factory=Sweeper)

    def now(self) -> datetime:
        return self.clock()

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def job_resource_name(self) -> str:
        """KFP's ``pipeline_job_resource_name``: on a cluster the Argo workflow's name."""
        return f"{self.pipeline.name}-{self.run_id}"

    @functools.cached_property
    def job_times(self) -> tuple[str, str]:
        """KFP's ``pipeline_job_create_time_utc`` and ``pipeline_job_schedule_time_utc``,
        formatted once per run (they never change while it executes), not once per task."""
        created = self.run.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        scheduled = self.run.scheduled_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.run.scheduled_at else created
        return created, scheduled

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
        state: RuntimeState = "RUNNING",
        **fields: Any,
    ) -> Task:
        """Create the row for a task at ``path``, reusing the id of a row left by an
        earlier execution of this run so that resumes and retries keep identities."""
        old = self.existing.get(path)
        now = self.now()
        task = Task(
            task_id=old.task_id if old else uuid.uuid4().hex,
            run_id=self.run_id,
            path=path,
            name=name,
            display_name=display_name,
            kind=kind,
            state=state,
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
        # At once (the CLI names a task's log lines by it); a WriteBehind holding the row
        # announces it again once written (see its on_written).
        self.on_event(TaskChanged(task))

    def finish_task(self, task: Task, state: RuntimeState, **fields: Any) -> Task:
        done = dataclasses.replace(task, state=state, finished_at=self.now(), **fields)
        self.put_task(done)
        return done

    def record_result(self, task: Task, artifacts: list[Artifact], events: list[ArtifactEvent]) -> None:
        self.recorder.record_task_result(task, artifacts, events)
        self.on_event(TaskChanged(task))
