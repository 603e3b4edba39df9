"""The engine over fakes: real kfp pipelines compiled in process, executed by
``execute_run`` with a ``FakeLauncher``, a ``MemoryRecorder`` and a test clock.
Nothing is spawned; a run takes milliseconds."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kfp import compiler

from pipeyard.config import Settings
from pipeyard.engine.outcome import ArtifactDict
from pipeyard.engine.run_events import Event
from pipeyard.engine.runner import execute_run
from pipeyard.entities import Run, Task, TaskAttempt
from pipeyard.ir.loader import load_pipeline_file, spec_to_dict
from pipeyard.submission.runs import check_arguments
from tests.support.fake_launcher import FakeLauncher
from tests.support.memory_recorder import MemoryRecorder

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class FakeTime:
    """A clock that only moves when the engine sleeps: ``sleeps`` are the delays asked for."""

    current: datetime = START
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)


@dataclass
class FakeResult:
    run: Run
    recorder: MemoryRecorder

    @property
    def state(self) -> str:
        return self.run.state

    @property
    def tasks(self) -> list[Task]:
        return self.recorder.list_tasks(self.run.run_id)

    def at(self, path: str) -> Task:
        return self.recorder.task_at(self.run.run_id, path)

    def params(self, path: str) -> dict[str, Any]:
        return dict((self.at(path).outputs or {}).get("parameters") or {})

    def attempts(self, path: str) -> list[TaskAttempt]:
        return self.recorder.attempts_of(self.at(path).task_id)

    def states(self) -> dict[str, str]:
        return {t.path: t.state for t in self.tasks}


class FakeEngine:
    """One PIPEYARD_HOME (work folders, logs, artifacts are real files in it), one
    recorder shared by its runs (so caching sees earlier runs), one fake launcher."""

    def __init__(self, home: Path, launcher: FakeLauncher | None = None) -> None:
        self.home = home
        self.settings = Settings.from_env({"PIPEYARD_HOME": str(home)})
        self.settings.ensure_dirs()
        self.launcher = launcher or FakeLauncher()
        self.recorder = MemoryRecorder()
        self.time = FakeTime()
        self.events: list[Event] = []

    def new_run(self, pipeline: Any, args: dict[str, Any] | None = None, *, caching: bool = False) -> Run:
        """``pipeline``: a ``@dsl.pipeline`` function or a compiled file."""
        path = pipeline if isinstance(pipeline, Path) else self.compile(pipeline)
        loaded = load_pipeline_file(path)
        params = check_arguments(loaded, dict(args or {}))
        spec = spec_to_dict(loaded.spec)
        return self.recorder.add_run(Run(
            run_id=uuid.uuid4().hex, display_name="test", pipeline_spec=spec, state="PENDING",
            created_at=self.time.now(), pipeline_name=loaded.spec.pipeline_info.name,
            platform_spec=loaded.platform_spec, parameters=params, pipeline_root=self.settings.pipeline_root,
            enable_caching=None if caching else False,
        ))

    def compile(self, func: Any) -> Path:
        path = self.home / f"{uuid.uuid4().hex}.yaml"
        compiler.Compiler().compile(func, str(path))
        return path

    async def execute(self, run: Run, input_artifacts: dict[str, list[ArtifactDict]] | None = None) -> Run:
        return await execute_run(run.run_id, recorder=self.recorder, launcher=self.launcher,
                                 settings=self.settings, on_event=self.events.append,
                                 input_artifacts=input_artifacts, clock=self.time.now, sleep=self.time.sleep)

    def run(self, pipeline: Any, args: dict[str, Any] | None = None, *, caching: bool = False,
            input_artifacts: dict[str, list[ArtifactDict]] | None = None) -> FakeResult:
        run = self.new_run(pipeline, args, caching=caching)
        final = asyncio.run(self.execute(run, input_artifacts))
        return FakeResult(final, self.recorder)
