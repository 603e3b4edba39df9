"""What a forked task's process starts from, now that the server sets up once what each child
used to set up for itself (``_forkserver_main._settle``, ``_take_env``): exactly the task's
environment (a variable the server has and the task has not is gone, a changed one changed),
/dev/null as input, line-buffered output, its own session; and its module report lists only
what it imported beyond the server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tests.support.launcher_components import describe_process
from tests.support.launcher_kfp_tasks import compile_component, executor_output, python_request

from pipeyard.launchers import LocalLauncher


async def _describe_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    compiled = compile_component(describe_process, tmp_path)
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    monkeypatch.setenv("PIPEYARD_T_GONE", "server-only")
    monkeypatch.setenv("PIPEYARD_T_CHANGED", "old")
    seen = []
    try:
        for run in range(2):
            root = tmp_path / f"run-{run}"
            request = python_request(compiled, root, {}, env={"PIPEYARD_T_TASK": str(run)})
            result = await launcher.launch(request)
            assert result.exit_code == 0, Path(request.log_path).read_text()
            seen.append(json.loads(executor_output(root)["parameterValues"]["Output"]))
            if run == 0:
                # The server was started (with these variables) by the first task.
                monkeypatch.delenv("PIPEYARD_T_GONE")
                monkeypatch.setenv("PIPEYARD_T_CHANGED", "new")
        assert launcher._servers, "the tasks did not run through the fork server"
    finally:
        await launcher.aclose()
    return seen


def test_a_forked_task_starts_from_its_own_environment_and_streams(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = asyncio.run(_describe_twice(tmp_path, monkeypatch))
    assert first["env"] == {"PIPEYARD_T_GONE": "server-only", "PIPEYARD_T_CHANGED": "old", "PIPEYARD_T_TASK": "0"}
    assert second["env"] == {"PIPEYARD_T_CHANGED": "new", "PIPEYARD_T_TASK": "1"}
    for seen in (first, second):
        assert seen["stdin"] == "/dev/null"
        assert seen["line_buffered"] == [True, True]
        assert seen["leader"] is True
