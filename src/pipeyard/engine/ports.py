"""The small interfaces through which the engine sees launchers and stores.

The engine never imports a concrete launcher or store; the CLI and the server
wire them in. Keep these narrow: every method here is something every
implementation must do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pipeyard.store.entities import Artifact, ArtifactEvent, Run, Task, TaskAttempt

# --------------------------------------------------------------------------- launchers


@dataclass(frozen=True)
class PythonProgram:
    """A KFP Python component, recognised so a launcher can run it without KFP's
    ``pip install kfp`` bootstrap and, where it can, without paying the import of
    ``kfp`` per task.

    ``source`` is the component module's source for lightweight components (the
    executor writes it to a file and imports it); ``None`` for containerized
    Python components, whose module is importable from ``module_dirs``.
    ``executor_args`` are the arguments after ``python -m kfp.dsl.executor_main``
    (``--executor_input ... --function_to_execute ...``), placeholders resolved.
    """

    executor_args: tuple[str, ...]
    source: str | None = None
    packages: tuple[str, ...] = ()
    index_urls: tuple[str, ...] = ()
    module_dirs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LaunchRequest:
    """Everything a launcher needs to run one attempt of one task."""

    key: str  # unique per attempt: "<run_id>/<task path>/<attempt>"
    argv: tuple[str, ...]  # the container command + args, placeholders resolved
    log_path: str  # stdout and stderr of the attempt go here, appended as they come
    env: Mapping[str, str] = field(default_factory=dict)  # added to the host environment
    cwd: str | None = None
    timeout_seconds: float | None = None
    # Set when argv is a KFP Python component; launchers may run it faster from this.
    python: PythonProgram | None = None
    # Absolute container paths (e.g. "/data") mapped to host directories; the
    # launcher makes them visible to the task (see launchers/local.py for how).
    mounts: Mapping[str, str] = field(default_factory=dict)
    # Called with each line of output (without newline), e.g. for --verbose and SSE.
    on_output: Callable[[str], None] | None = None
    cpu: float = 0.0
    memory_bytes: int = 0
    # The component's container image; launchers that run tasks on the host ignore it.
    image: str = ""
    # Host files and directories the task reads or writes at their own paths (its
    # working directory, executor output, artifacts). A launcher that isolates the
    # filesystem (a container) must make them visible at the same paths.
    host_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class LaunchResult:
    exit_code: int | None
    timed_out: bool = False
    # Set when the launcher could not start the task at all (e.g. a venv failed).
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.error is None


class Launcher(Protocol):
    """Runs task commands. Cancelling the awaiting coroutine (asyncio.CancelledError)
    must terminate the task's process and all its children before returning."""

    async def launch(self, request: LaunchRequest) -> LaunchResult: ...

    async def aclose(self) -> None: ...


# --------------------------------------------------------------------------- store


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


Clock = Callable[[], datetime]
