"""The launcher contract: what the engine asks of every launcher (local processes,
Ray) to run one attempt of one task. Every method here is something every
implementation must do; the engine never imports a concrete launcher."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pipeyard.ir.python_component import PythonProgram


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
    # Requests (admission: the task waits until this much is free) and limits (enforced
    # while it runs; see launchers/task_limits.py). 0 means none.
    cpu: float = 0.0
    memory_bytes: int = 0
    cpu_limit: float = 0.0
    memory_limit_bytes: int = 0
    # set_accelerator_type/limit: the type as written ("nvidia.com/gpu") and how many.
    accelerator_type: str = ""
    accelerator_count: int = 0
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
