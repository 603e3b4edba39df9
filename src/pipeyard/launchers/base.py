"""The launcher contract: what the engine asks of every launcher (local processes,
Ray) to run one attempt of one task. Every method here is something every
implementation must do; the engine never imports a concrete launcher."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    # Staged copies of a remote pipeline root's artifacts: local input path -> remote
    # URI, and (local task root, its remote URI). A launcher whose tasks run where this
    # machine's files are not (another Ray node) fetches and uploads them there.
    staged_inputs: Mapping[str, str] = field(default_factory=dict)
    staged_task_root: tuple[str, str] | None = None
    # Whether the engine will run another attempt if this one fails (a retry policy
    # with retries left); a launcher may resubmit an attempt lost to a dead node once
    # when it will not.
    engine_retries: bool = False


@dataclass(frozen=True)
class LaunchResult:
    exit_code: int | None
    timed_out: bool = False
    # Set when the launcher could not start the task at all (e.g. a venv failed).
    error: str | None = None
    # Where and how it ran, for the task's details (e.g. the Ray node of each try).
    details: Mapping[str, Any] = field(default_factory=dict)
    # Set when the launcher uploaded the task's staged outputs itself.
    uploaded: bool = False

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.error is None


class Launcher(Protocol):
    """Runs task commands. Cancelling the awaiting coroutine (asyncio.CancelledError)
    must terminate the task's process and all its children before returning."""

    async def launch(self, request: LaunchRequest) -> LaunchResult: ...

    async def aclose(self) -> None: ...
