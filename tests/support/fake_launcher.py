"""A launcher that runs nothing (launchers/base.py's contract): each request goes to
a handler the test gives per task, which plays the task by writing its executor
output and artifacts where KFP's executor would, then returns a ``LaunchResult``.

Handlers see a ``FakeCall``: the request, the task path and attempt parsed from its
key, and the ExecutorInput parsed from a Python component's ``--executor_input``.
A handler may be async, e.g. to wait on an event so the test can cancel mid-task.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeyard.artifacts.uris import local_path
from pipeyard.launchers.base import LaunchRequest, LaunchResult

OK = LaunchResult(exit_code=0)


@dataclass
class FakeCall:
    request: LaunchRequest

    @property
    def path(self) -> str:
        """The task's path in its run (e.g. ``for-loop-2[1]/train``)."""
        return self.request.key.split("/", 1)[1].rsplit("/", 1)[0]

    @property
    def task(self) -> str:
        """The task's own name: the last part of its path."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def attempt(self) -> int:
        return int(self.request.key.rsplit("/", 1)[1])

    @property
    def executor_input(self) -> dict[str, Any]:
        argv = list(self.request.argv)
        if "--executor_input" not in argv:
            raise AssertionError(f"{self.path}: not a Python component, no --executor_input in {argv}")
        parsed: dict[str, Any] = json.loads(argv[argv.index("--executor_input") + 1])
        return parsed

    @property
    def parameters(self) -> dict[str, Any]:
        """The input parameter values the engine resolved for this task."""
        return dict(self.executor_input["inputs"].get("parameterValues") or {})

    def input_uris(self, name: str) -> list[str]:
        return [a["uri"] for a in self.executor_input["inputs"]["artifacts"][name]["artifacts"]]

    def read_input(self, name: str) -> str:
        return Path(local_path(self.input_uris(name)[0])).read_text()

    def succeed(self, parameters: Mapping[str, Any] | None = None,
                artifacts: Mapping[str, str] | None = None) -> LaunchResult:
        """Write what KFP's executor writes on success: the artifact files (``artifacts``:
        name -> text) and the executor output with the parameter values."""
        outputs = self.executor_input["outputs"]
        for name, text in (artifacts or {}).items():
            (uri,) = [a["uri"] for a in outputs["artifacts"][name]["artifacts"]]
            target = Path(local_path(uri))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        Path(outputs["outputFile"]).write_text(json.dumps({"parameterValues": dict(parameters or {})}))
        return OK

    def log(self, text: str) -> None:
        """Write to the attempt's log as a task's output would go there."""
        Path(self.request.log_path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.request.log_path, "a") as f:
            f.write(text + "\n")
        if self.request.on_output is not None:
            self.request.on_output(text)


Handler = Callable[[FakeCall], "LaunchResult | Awaitable[LaunchResult]"]


@dataclass
class FakeLauncher:
    """``handlers`` by task name (the last part of the path); tasks without one exit 0
    having written nothing. ``calls`` lists every request in the order received."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    calls: list[FakeCall] = field(default_factory=list)
    closed: bool = False
    # How many launches were in flight at once, at most (for parallelism limits).
    running: int = 0
    most_running: int = 0

    async def launch(self, request: LaunchRequest) -> LaunchResult:
        call = FakeCall(request)
        self.calls.append(call)
        handler = self.handlers.get(call.task)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if handler is None:
                return OK
            result = handler(call)
            if inspect.isawaitable(result):
                result = await result
            assert isinstance(result, LaunchResult)
            return result
        finally:
            self.running -= 1

    async def aclose(self) -> None:
        self.closed = True

    def calls_of(self, task: str) -> list[FakeCall]:
        return [c for c in self.calls if c.task == task]


def returning(fn: Callable[..., Any]) -> Handler:
    """Plays a Python component that returns ``fn(**its input parameters)``."""
    return lambda call: call.succeed({"Output": fn(**call.parameters)})


def failing(exit_code: int = 1, log: str = "") -> Handler:
    """Plays a task that prints ``log`` and exits with ``exit_code``."""

    def handler(call: FakeCall) -> LaunchResult:
        if log:
            call.log(log)
        return LaunchResult(exit_code=exit_code)

    return handler
