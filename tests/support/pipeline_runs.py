"""Compile real kfp pipelines and run them through the engine (in process) or the CLI.

Shared by the engine unit tests and the CLI/engine integration tests. One
``EngineHarness`` per test module: one PIPEYARD_HOME, one store, one event
loop and one launcher per parallelism limit, so the fork server starts once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfp import compiler

from pipeyard.artifacts.uris import local_path
from pipeyard.cli.report import run_json
from pipeyard.config import Settings
from pipeyard.engine.context import Sleep
from pipeyard.engine.runner import execute_run
from pipeyard.entities import Run, Task, TaskAttempt
from pipeyard.ir.loader import load_pipeline_file
from pipeyard.launchers.base import Launcher
from pipeyard.launchers.local import LocalLauncher
from pipeyard.store import Store, open_store
from pipeyard.submission.runs import check_arguments, create_run

REPO = Path(__file__).resolve().parents[2]
PIPEYARD = REPO / ".venv" / "bin" / "pipeyard"
# Guards against a hung CLI, never a performance assertion.
CLI_DEADLINE_SECONDS = 180


def compile_pipeline(func: Any, path: Path) -> Path:
    compiler.Compiler().compile(func, str(path))
    return path


def read_artifact(uri: str) -> str:
    return Path(local_path(uri)).read_text()


@dataclass
class Result:
    run: Run
    tasks: list[Task]
    store: Store

    @property
    def state(self) -> str:
        return self.run.state

    def named(self, name: str) -> list[Task]:
        """Leaf tasks (containers, importers) called ``name``, in iteration order."""
        found = [t for t in self.tasks if t.name == name and t.kind in ("CONTAINER", "IMPORTER")]
        return sorted(found, key=lambda t: t.path)

    def one(self, name: str) -> Task:
        found = [t for t in self.tasks if t.name == name]
        assert len(found) == 1, f"expected one task {name!r}, got {[t.path for t in found]}"
        return found[0]

    def at(self, path: str) -> Task:
        found = [t for t in self.tasks if t.path == path]
        assert found, f"no task at {path!r}; paths: {sorted(t.path for t in self.tasks)}"
        return found[0]

    def params(self, name: str) -> dict[str, Any]:
        return dict((self.one(name).outputs or {}).get("parameters") or {})

    def artifacts(self, name: str, output: str) -> list[dict[str, Any]]:
        return list(((self.one(name).outputs or {}).get("artifacts") or {}).get(output) or [])

    def attempts(self, task: Task) -> list[TaskAttempt]:
        return self.store.list_attempts(task.task_id)

    def log(self, task: Task, attempt: int | None = None) -> str:
        attempts = self.attempts(task)
        chosen = attempts[-1] if attempt is None else next(a for a in attempts if a.attempt == attempt)
        return Path(chosen.log_path).read_text(errors="replace")

    def json(self) -> dict[str, Any]:
        return run_json(self.store, self.run)


class EngineHarness:
    """Runs compiled pipelines through ``execute_run`` as ``pipeyard run`` does."""

    def __init__(self, home: Path, launcher: Launcher | None = None) -> None:
        """``launcher``: one for every run instead of local ones (e.g. a FakeLauncher)."""
        self.home = home
        self._fixed_launcher = launcher
        self.settings = Settings.from_env({"PIPEYARD_HOME": str(home)})
        self.settings.ensure_dirs()
        self.store = open_store(self.settings.database_url)
        self._runner = asyncio.Runner()
        self._launchers: dict[int | None, LocalLauncher] = {}

    def launcher(self, parallelism: int | None) -> Launcher:
        if self._fixed_launcher is not None:
            return self._fixed_launcher
        if parallelism not in self._launchers:
            self._launchers[parallelism] = LocalLauncher(parallelism, envs_dir=self.settings.envs_dir)
        return self._launchers[parallelism]

    def run(
        self,
        pipeline_file: Path,
        args: dict[str, Any] | None = None,
        *,
        parallelism: int | None = None,
        caching: bool = False,
        input_artifacts: dict[str, list[dict[str, Any]]] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> Result:
        """``caching=False`` (the default here, unlike the CLI) keeps tests that share
        a home from reusing each other's results; caching tests pass True."""
        loaded = load_pipeline_file(pipeline_file)
        params = check_arguments(loaded, dict(args or {}))
        run = create_run(self.store, loaded, params, pipeline_root=self.settings.pipeline_root,
                         enable_caching=None if caching else False, local_worker="tests")
        final = self._runner.run(execute_run(
            run.run_id, recorder=self.store, launcher=self.launcher(parallelism), settings=self.settings,
            input_artifacts=input_artifacts, sleep=sleep,
        ))
        return Result(final, self.store.list_tasks(run.run_id), self.store)

    def run_existing(self, run_id: str, *, parallelism: int | None = None) -> Result:
        """Execute a run already in the store again (a resume or a retry)."""
        final = self._runner.run(execute_run(
            run_id, recorder=self.store, launcher=self.launcher(parallelism), settings=self.settings,
        ))
        return Result(final, self.store.list_tasks(run_id), self.store)

    def close(self) -> None:
        for launcher in self._launchers.values():
            self._runner.run(launcher.aclose())
        self._runner.close()
        self.store.close()


def engine_fixture(tmp_path_factory: Any) -> Iterator[EngineHarness]:
    harness = EngineHarness(tmp_path_factory.mktemp("engine-home"))
    try:
        yield harness
    finally:
        harness.close()


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPEYARD_")}
    env["PIPEYARD_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(home: Path, *args: str, timeout: float = CLI_DEADLINE_SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PIPEYARD), *args], env=cli_env(home), capture_output=True, text=True,
                          timeout=timeout, check=False)


def cli_json(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = run_cli(home, *args, "--json")
    assert proc.stdout.strip(), f"no JSON on stdout (exit {proc.returncode}):\n{proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


# ---------------------------------------------------------------- concurrency probes


def read_intervals(directory: Path) -> list[tuple[float, float]]:
    """(start, end) pairs written by ``probe`` tasks: one ``<id>.json`` file each."""
    out = []
    for f in directory.glob("*.json"):
        doc = json.loads(f.read_text())
        out.append((float(doc["start"]), float(doc["end"])))
    return out


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant. Each was recorded inside its task's
    process, so it lies within the time the process actually ran: the observed
    overlap can only under-state the real one."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


def python() -> str:
    return sys.executable


Compiled = Callable[[Path], Path]
