"""Real KFP components compiled with the real SDK, turned into LaunchRequests.

The engine normally resolves placeholders and builds the PythonProgram; here we
do the minimum of that by hand: compile, read the executor's command and args
from ``deploymentSpec``, write an ExecutorInput, substitute ``{{$}}``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kfp import compiler, dsl

from pipeyard.ir.python_component import PythonProgram
from pipeyard.launchers.base import LaunchRequest


@dataclass(frozen=True)
class CompiledComponent:
    command: tuple[str, ...]
    args: tuple[str, ...]
    packages: tuple[str, ...]

    @property
    def source(self) -> str:
        # KFP's lightweight command ends with: sh -ec '<writes "$0" to a file>' '<source>'
        return self.command[-1]


def compile_component(component: Any, tmp_dir: Path, **arguments: Any) -> CompiledComponent:
    # No return annotation: with postponed annotations kfp would read the string "None".
    @dsl.pipeline(name="launcher-test")
    def pipeline():  # type: ignore[no-untyped-def]
        component(**arguments)

    path = tmp_dir / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    spec = yaml.safe_load(path.read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    container = executor["container"]
    command = tuple(container["command"])
    packages = tuple(p for p in _quoted_packages(command[2]))
    return CompiledComponent(command, tuple(container["args"]), packages)


def _quoted_packages(bootstrap: str) -> list[str]:
    # With packages_to_install the bootstrap is "pip install <user packages> && pip install kfp...".
    installs = [segment for segment in bootstrap.split("&&") if "pip install" in segment]
    if len(installs) < 2:
        return []
    return [part.strip("'") for part in installs[0].split() if part.startswith("'")]


def executor_input(tmp_dir: Path, parameters: dict[str, Any], outputs: tuple[str, ...] = ("Output",)) -> str:
    out_dir = tmp_dir / "outputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    return json.dumps(
        {
            "inputs": {"parameterValues": parameters},
            "outputs": {
                "parameters": {name: {"outputFile": str(out_dir / name)} for name in outputs},
                "outputFile": str(out_dir / "executor_output.json"),
            },
        }
    )


def python_request(
    compiled: CompiledComponent,
    tmp_dir: Path,
    parameters: dict[str, Any],
    key: str = "run/task/0",
    **fields: Any,
) -> LaunchRequest:
    payload = executor_input(tmp_dir, parameters)
    args = tuple(payload if a == "{{$}}" else a for a in compiled.args)
    # What the engine would put in argv: KFP's full command (we must never run its bootstrap).
    argv = tuple(payload if a == "{{$}}" else a for a in (*compiled.command, *compiled.args))
    program = PythonProgram(executor_args=args, source=compiled.source, packages=compiled.packages)
    return LaunchRequest(
        key=key, argv=argv, log_path=str(tmp_dir / "logs" / "task.log"), python=program, **fields
    )


def executor_output(tmp_dir: Path) -> dict[str, Any]:
    return dict(json.loads((tmp_dir / "outputs" / "executor_output.json").read_text()))


def component(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``dsl.component`` without the base-image FutureWarning noise."""

    def decorate(fn: Callable[..., Any]) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return dsl.component(fn, **options)

    return decorate
