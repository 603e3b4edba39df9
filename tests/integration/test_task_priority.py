"""Task processes run at the launcher's niceness plus PIPEYARD_TASK_NICE (launchers/priority.py),
read from outside in /proc/<pid>/stat while the task runs."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from tests.support.launcher_components import hold
from tests.support.launcher_kfp_tasks import compile_component, python_request
from tests.support.processes import niceness, wait_until

from pipeyard.launchers import LocalLauncher
from pipeyard.launchers.base import LaunchRequest, LaunchResult
from pipeyard.launchers.priority import DEFAULT_NICE, NICE_ENV, SERVER_NICE

OWN = os.getpriority(os.PRIO_PROCESS, 0)


def observe(launcher: LocalLauncher, request: LaunchRequest, pid_file: Path, release: Path) -> tuple[int, LaunchResult]:
    """Launch, wait for the task to write its pid, then for its niceness to be what the
    launcher sets (a value it never reaches fails after the deadline), then release it."""

    async def scenario() -> tuple[int, LaunchResult]:
        try:
            running = asyncio.ensure_future(launcher.launch(request))
            await asyncio.to_thread(wait_until, pid_file.exists, "the task's pid file")
            pid = int(pid_file.read_text())
            seen = niceness(pid)
            expected = min(19, OWN + launcher.task_nice)
            if launcher.task_nice:
                await asyncio.to_thread(wait_until, lambda: niceness(pid) == expected, f"niceness {expected}", 60)
                seen = niceness(pid)
            release.write_text("go")
            result = await running
            assert seen is not None
            return seen, result
        finally:
            await launcher.aclose()

    return asyncio.run(scenario())


def test_outside_the_server_tasks_keep_the_launchers_priority_by_default(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    monkeypatch.delenv(NICE_ENV, raising=False)
    assert DEFAULT_NICE == 0
    assert LocalLauncher(envs_dir=tmp_path / "envs").task_nice == 0


@pytest.mark.parametrize("fork_server", [True, False], ids=["forkserver", "subprocess"])
def test_python_task_runs_at_the_servers_niceness(fork_server: bool, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NICE_ENV, str(SERVER_NICE))
    launcher = LocalLauncher(envs_dir=tmp_path / "envs", fork_server=fork_server)
    assert launcher.task_nice == SERVER_NICE
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    compiled = compile_component(hold, tmp_path, pid_file="p", release_file="r")
    request = python_request(compiled, tmp_path, {"pid_file": str(pid_file), "release_file": str(release)})
    seen, result = observe(launcher, request, pid_file, release)
    assert result == LaunchResult(exit_code=0), Path(request.log_path).read_text()
    assert seen == min(19, OWN + SERVER_NICE)


def test_command_task_runs_at_configured_niceness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NICE_ENV, "4")
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    code = (
        "import os, sys, time\n"
        f"open({str(pid_file)!r} + '.part', 'w').write(str(os.getpid()))\n"
        f"os.replace({str(pid_file)!r} + '.part', {str(pid_file)!r})\n"
        f"while not os.path.exists({str(release)!r}): time.sleep(0.05)\n"
        # A child started afterwards inherits the task's niceness.
        "print('child', os.popen('cat /proc/self/stat').read().rsplit(')', 1)[1].split()[16])\n"
    )
    request = LaunchRequest(key="k", argv=(sys.executable, "-c", code), log_path=str(tmp_path / "log"))
    seen, result = observe(launcher, request, pid_file, release)
    assert result == LaunchResult(exit_code=0), Path(request.log_path).read_text()
    assert seen == min(19, OWN + 4)
    assert Path(request.log_path).read_text().split() == ["child", str(min(19, OWN + 4))]


def test_zero_keeps_the_launchers_priority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NICE_ENV, "0")
    launcher = LocalLauncher(envs_dir=tmp_path / "envs")
    pid_file, release = tmp_path / "pid", tmp_path / "release"
    compiled = compile_component(hold, tmp_path, pid_file="p", release_file="r")
    request = python_request(compiled, tmp_path, {"pid_file": str(pid_file), "release_file": str(release)})
    seen, result = observe(launcher, request, pid_file, release)
    assert result == LaunchResult(exit_code=0), Path(request.log_path).read_text()
    assert seen == OWN


@pytest.mark.parametrize("value", ["ten", "-1", "20"])
def test_bad_setting_is_an_error_naming_it(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NICE_ENV, value)
    with pytest.raises(ValueError, match=rf"{NICE_ENV}='{value}': want an integer from 0 to 19"):
        LocalLauncher(envs_dir=tmp_path / "envs")
