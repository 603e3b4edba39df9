"""What a forked task's process starts from, now that the server sets up once what each child
used to set up for itself (``_forkserver_main._settle``, ``_take_env``): exactly the task's
environment (a variable the server has and the task has not is gone, a changed one changed),
/dev/null as input, line-buffered output, its own session; and its module report lists only
what it imported beyond the server. The server forks each task's child ahead of its request
(the spare): the next task runs in it, and it holds nothing but its socket and goes with the
server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from tests.support.launcher_components import describe_process
from tests.support.launcher_kfp_tasks import compile_component, executor_output, python_request
from tests.support.processes import gone, wait_until

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchRequest


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


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(entry.name))
    return found


def _spare_descriptors(pid: int) -> list[str]:
    """What the spare holds open beyond its standard streams."""
    fds = Path(f"/proc/{pid}/fd")
    return sorted(os.readlink(fd) for fd in fds.iterdir() if int(fd.name) > 2)


async def _spare_runs_the_next_task(tmp_path: Path) -> tuple[int, list[str], dict[str, Any], int]:
    compiled = compile_component(describe_process, tmp_path)
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    try:
        for run in range(2):  # the first compiles the module: its spare is forked after
            result = await launcher.launch(python_request(compiled, tmp_path / f"run-{run}", {}))
            assert result.exit_code == 0
        process = launcher._servers[launcher.python]._process
        assert process is not None
        (spare,) = _children(process.pid)  # the tasks were reaped: only the spare is left
        held = _spare_descriptors(spare)
        root = tmp_path / "run-2"
        result = await launcher.launch(python_request(compiled, root, {}))
        assert result.exit_code == 0
        seen = json.loads(executor_output(root)["parameterValues"]["Output"])
        (next_spare,) = _children(process.pid)
    finally:
        await launcher.aclose()
    return spare, held, seen, next_spare


def test_the_next_task_runs_in_the_spare_which_goes_with_the_server(tmp_path: Path) -> None:
    spare, held, seen, next_spare = asyncio.run(_spare_runs_the_next_task(tmp_path))
    assert seen["pid"] == spare != next_spare
    # The spare rehearsed the executor before the request; none of that shows.
    assert seen["leftovers"] == [] and seen["argv"][1].endswith("/ephemeral_component.py")
    # No task's output pipe (its log would wait for the spare), no file: its socket, and the
    # server's epoll descriptor that every forked child inherits.
    assert [fd for fd in held if not fd.startswith(("socket:", "anon_inode:[eventpoll]"))] == []
    assert sum(fd.startswith("socket:") for fd in held) == 1
    wait_until(lambda: gone(next_spare), "the spare to exit with its server")


async def _children_after_tasks(tmp_path: Path) -> list[int]:
    compiled = compile_component(describe_process, tmp_path)
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    try:
        for run in range(2):
            assert (await launcher.launch(python_request(compiled, tmp_path / f"run-{run}", {}))).exit_code == 0
        process = launcher._servers[launcher.python]._process
        assert process is not None
        return _children(process.pid)
    finally:
        await launcher.aclose()


def test_no_spare_when_fork_ahead_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPEYARD_FORK_AHEAD", "0")
    assert asyncio.run(_children_after_tasks(tmp_path)) == []


async def _children_beside_another_task(tmp_path: Path) -> list[int]:
    """A forked task while the launcher runs a plain command: not alone, so no spare."""
    compiled = compile_component(describe_process, tmp_path)
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    release = tmp_path / "release"
    waiting = asyncio.ensure_future(launcher.launch(LaunchRequest(
        key="run/wait/0", argv=("sh", "-c", f'while [ ! -e "{release}" ]; do sleep 0.05; done'),
        log_path=str(tmp_path / "wait.log"))))
    try:
        await asyncio.sleep(0)  # let it begin: the launcher counts it from its first step
        result = await launcher.launch(python_request(compiled, tmp_path / "run-0", {}))
        assert result.exit_code == 0
        process = launcher._servers[launcher.python]._process
        assert process is not None
        return _children(process.pid)
    finally:
        release.touch()
        assert (await waiting).exit_code == 0
        await launcher.aclose()


def test_no_spare_while_the_launcher_runs_another_task(tmp_path: Path) -> None:
    assert asyncio.run(_children_beside_another_task(tmp_path)) == []
