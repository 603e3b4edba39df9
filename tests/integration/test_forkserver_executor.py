"""A forked task runs KFP's executor without ``executor_main``'s argument parser, on module
code the server compiled once (``_forkserver_main._execute``): what the task leaves must be
what ``python -m kfp.dsl.executor_main`` leaves - the same outputs, the same executor log
lines, the same failure - so each case runs both ways and compares."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from tests.support.launcher_components import add, fail
from tests.support.launcher_kfp_tasks import (
    CompiledComponent,
    compile_component,
    executor_output,
    python_request,
)

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchResult

_STAMP = re.compile(r"^\[KFP Executor [0-9-]+ [0-9:,]+ INFO\]", re.MULTILINE)
_MODULE_DIR = re.compile(r"/[^ `\"]*/ephemeral_component\.py|directory \"[^\"]*\"")


def _normalised(log: str, root: Path) -> str:
    """The log without what differs between two runs: timestamps, the task's folder, and the
    folder each launcher writes the component's module to."""
    log = _STAMP.sub("[KFP Executor T INFO]", log)
    return _MODULE_DIR.sub("MODULE", log.replace(str(root), "ROOT"))


async def _launch_twice(compiled: CompiledComponent, tmp_path: Path, params: dict[str, object]
                        ) -> dict[bool, tuple[LaunchResult, str, Path]]:
    """The same task run through the fork server, twice (the second on compiled code), and
    as a subprocess of ``executor_main``; by fork-server flag and run, what each left."""
    results: dict[bool, tuple[LaunchResult, str, Path]] = {}
    for forked in (True, False):
        launcher = LocalLauncher(envs_dir=tmp_path / "envs", fork_server=forked)
        try:
            for run in range(2 if forked else 1):
                root = tmp_path / f"forked-{forked}-{run}"
                request = python_request(compiled, root, params)
                result = await launcher.launch(request)
                results[forked] = (result, _normalised(Path(request.log_path).read_text(), root), root)
        finally:
            await launcher.aclose()
    return results


def test_a_forked_task_leaves_what_executor_main_leaves(tmp_path: Path) -> None:
    compiled = compile_component(add, tmp_path, a=1, b=2, out_path="x")
    results = asyncio.run(_launch_twice(compiled, tmp_path, {"a": 40, "b": 2, "out_path": str(tmp_path / "s")}))
    (forked, forked_log, forked_root), (plain, plain_log, plain_root) = results[True], results[False]
    assert forked == plain == LaunchResult(exit_code=0)
    assert executor_output(forked_root) == executor_output(plain_root) == {"parameterValues": {"Output": 42}}
    assert "Looking for component `add`" in forked_log and "Wrote executor output file to" in forked_log
    assert forked_log == plain_log


def test_a_failing_forked_task_fails_as_executor_main_does(tmp_path: Path) -> None:
    compiled = compile_component(fail, tmp_path, message="x")
    results = asyncio.run(_launch_twice(compiled, tmp_path, {"message": "boom from user code"}))
    (forked, forked_log, _), (plain, plain_log, _) = results[True], results[False]
    assert forked.exit_code == plain.exit_code == 1
    assert "ValueError: boom from user code" in forked_log
    assert "in _execute_direct" in forked_log  # it did take the direct path
    # The traceback's frames differ (the subprocess enters through runpy); its end may not.
    assert forked_log.splitlines()[-1] == plain_log.splitlines()[-1] == "ValueError: boom from user code"


@pytest.mark.parametrize("args", [
    ["--executor_input", "{}", "--function_to_execute", "f"],  # no module path: kfp_config.ini
    ["--component_module_path", "m.py", "--executor_input", "{}", "--function_to_execute", "f", "--extra", "1"],
    ["--component_module_path=m.py", "--executor_input", "{}", "--function_to_execute", "f"],
    ["--component_module_path", "m.py", "--executor_in", "{}", "--function_to_execute", "f"],
    ["--component_module_path", "m.py", "--executor_input", "{}", "--function_to_execute", "f",
     "--function_to_execute", "g"],
])
def test_arguments_the_direct_path_does_not_know_go_to_executor_main(args: list[str]) -> None:
    from pipeyard.launchers import _forkserver_main

    assert _forkserver_main._direct_args(args) is None


def test_the_arguments_the_launcher_passes_take_the_direct_path() -> None:
    from pipeyard.launchers import _forkserver_main

    args = ["--component_module_path", "/d/ephemeral_component.py", "--executor_input", "{}",
            "--function_to_execute", "f"]
    assert _forkserver_main._direct_args(args) == {"--component_module_path": "/d/ephemeral_component.py",
                                                   "--executor_input": "{}", "--function_to_execute": "f"}
